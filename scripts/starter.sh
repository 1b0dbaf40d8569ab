#!/usr/bin/env bash
# Runs the starter against the stack of `make run`: same Temporal address,
# the dev payload key in .local/codec-keys and the dev public seal keys in
# .local/seal-public-keys. Rebuilds bin/starter when a Go source is newer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/bin/starter"
# The state folder of run-local.sh (RUN_LOCAL_DIR, default .local).
local_dir="${RUN_LOCAL_DIR:-$root/.local}"
if [ ! -x "$bin" ] || [ -n "$(find "$root/starter" "$root/onboarding" "$root/internal" -name '*.go' -newer "$bin" -print -quit)" ]; then
	(cd "$root" && "${GO:-go}" build -o "$bin" ./starter)
fi
# The dev public seal keys, so that PINs and codes leave sealed; a missing
# file (a .local/ from before sealing) leaves them unset, and the starter
# names them when a command needs them.
if [ -z "${WA_SEAL_PUBLIC_KEYS:-}" ] && [ -z "${WA_SEAL_PUBLIC_KEYS_FILE:-}" ] && [ -s "$local_dir/seal-public-keys" ]; then
	export WA_SEAL_PUBLIC_KEYS_FILE="$local_dir/seal-public-keys"
fi
if [ -z "${WA_CODEC_KEYS:-}" ] && [ -z "${WA_CODEC_KEYS_FILE:-}" ]; then
	[ -s "$local_dir/codec-keys" ] || { echo "starter.sh: no $local_dir/codec-keys yet: run \`make run\` first" >&2; exit 1; }
	export WA_CODEC_KEYS_FILE="$local_dir/codec-keys"
fi
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
# Under its own name, so that the hints it prints name the command typed.
exec -a "$0" "$bin" "$@"
