#!/usr/bin/env bash
# Generates the development secrets docker-compose.yml mounts, into
# deploy/secrets/ (git-ignored, never in an image: .dockerignore). Files that
# exist are kept, so running it again is harmless and a real secret put there
# by hand is never overwritten. Called by `make deploy-secrets`.
#
# For production, put the real values in these files instead (or point the
# compose secrets at your secret store's files):
#   whatsapp-access-token   Meta system-user token (the generated one is the
#                           simulator's, for the `simulator` profile)
#   webhook-app-secret      the Meta app's secret (X-Hub-Signature-256)
#   webhook-verify-token    the hub.verify_token you enter in the App Dashboard
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${DEPLOY_SECRETS_DIR:-$root/deploy/secrets}"
GO="${GO:-go}"

say() { printf 'deploy-secrets: %s\n' "$*" >&2; }

mkdir -p "$dir"
# The directory keeps other host users out; the files themselves must be
# readable by the containers' non-root users (compose can bind-mount file
# secrets with their host mode), hence 0644 inside a 0700 directory.
chmod 700 "$dir"

# codecserver and sealkey make the keys; built once into a temporary
# directory (Go toolchain), or run from the image when there is no Go.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tool() {
	local cmd="$1"
	shift
	if command -v "$GO" >/dev/null 2>&1; then
		[ -x "$tmp/$cmd" ] || (cd "$root" && CGO_ENABLED=0 "$GO" build -o "$tmp/" "./$cmd")
		"$tmp/$cmd" "$@"
	else
		docker run --rm -e WA_SEAL_PRIVATE_KEYS "${WA_IMAGE:-wa-onboarding:local}" "$cmd" "$@"
	fi
}
random() { head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'; }

# write NAME: stdin to deploy/secrets/NAME unless it exists and is not empty.
write() {
	local f="$dir/$1"
	if [ -s "$f" ]; then
		say "kept $1"
		cat >/dev/null
		return
	fi
	cat >"$f.tmp"
	[ -s "$f.tmp" ] || { rm -f "$f.tmp"; say "nothing generated for $1"; exit 1; }
	chmod 644 "$f.tmp"
	mv "$f.tmp" "$f"
	say "wrote $1"
}

stamp="$(date -u +%Y%m%d)"
# Generated before writing, so that a failing tool leaves no half file.
if [ ! -s "$dir/codec-keys" ]; then
	key="$(tool codecserver -generate-key)"
	printf '# payload keys made by deploy/secrets.sh; one id:base64key per line; the last line encrypts\ndeploy-%s:%s\n' "$stamp" "$key" | write codec-keys
fi
if [ ! -s "$dir/seal-private-keys" ]; then
	key="$(tool sealkey generate -id "deploy-seal-$stamp")"
	printf '# seal keys for workers only made by deploy/secrets.sh; one id:base64 per line; the last line seals\n%s\n' "$key" | write seal-private-keys
fi
if [ ! -s "$dir/seal-public-keys" ] || [ "$dir/seal-private-keys" -nt "$dir/seal-public-keys" ]; then
	rm -f "$dir/seal-public-keys"
	pub="$(WA_SEAL_PRIVATE_KEYS="$(grep -v '^#' "$dir/seal-private-keys" | paste -sd, -)" tool sealkey public)"
	printf '%s\n' "$pub" | write seal-public-keys
fi
random | write codec-auth-token
random | write api-token
random | write webhook-app-secret
random | write webhook-verify-token
random | write postgres-password
# The simulator's default token, so `--profile simulator` works as generated;
# replace it with the real system-user token for Meta.
printf 'sim-token' | write whatsapp-access-token
say "secrets in ${dir#"$root"/}"
