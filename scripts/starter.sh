#!/usr/bin/env bash
# Runs the starter against the stack of `make run`: same Temporal address and
# the dev payload key in .local/codec-keys. Rebuilds bin/starter when a Go
# source is newer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/bin/starter"
if [ ! -x "$bin" ] || [ -n "$(find "$root/starter" "$root/onboarding" "$root/internal" -name '*.go' -newer "$bin" -print -quit)" ]; then
	(cd "$root" && "${GO:-go}" build -o "$bin" ./starter)
fi
if [ -z "${WA_CODEC_KEYS:-}" ] && [ -z "${WA_CODEC_KEYS_FILE:-}" ]; then
	[ -s "$root/.local/codec-keys" ] || { echo "starter.sh: no .local/codec-keys yet: run \`make run\` first" >&2; exit 1; }
	export WA_CODEC_KEYS_FILE="$root/.local/codec-keys"
fi
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
# Under its own name, so that the hints it prints name the command typed.
exec -a "$0" "$bin" "$@"
