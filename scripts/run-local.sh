#!/usr/bin/env bash
# Runs the whole stack on this machine for development: the Temporal dev
# server (state kept in .local/temporal.db across restarts), the codec server
# that lets Temporal UI decrypt payloads, the Graph API simulator (unless a
# real Graph API is configured) and, in the foreground, the worker.
# Ctrl-C, or SIGINT, SIGTERM or SIGHUP to this script's process alone, stops
# everything it started and waits for it. Called by `make run`; note that
# make forwards SIGTERM to this script but not SIGINT (it expects the
# terminal to have signalled the whole group), so from another terminal stop
# it with `kill <pid of this script>` or `kill -TERM <pid of make>`.
#
# Environment, for tests and a second stack on one machine: RUN_LOCAL_DIR
# (state, default .local), RUN_LOCAL_TEMPORAL_PORT, RUN_LOCAL_UI_PORT,
# RUN_LOCAL_CODEC_ADDR, RUN_LOCAL_SIM_ADDR, RUN_LOCAL_GATEWAY_ADDR,
# RUN_LOCAL_METRICS_ADDR (the worker's /metrics, /healthz, /readyz).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

GO="${GO:-go}"
# make passes TEMPORAL_CLI_PATH; run directly, take the CLI make built.
TEMPORAL="${TEMPORAL_CLI_PATH:-$(ls -d "$root"/.tools/temporal-*/temporal 2>/dev/null | tail -n 1)}"
LOCAL="${RUN_LOCAL_DIR:-$root/.local}"
BIN="$root/bin"
TEMPORAL_PORT="${RUN_LOCAL_TEMPORAL_PORT:-7233}"
UI_PORT="${RUN_LOCAL_UI_PORT:-8233}"
CODEC_ADDR="${RUN_LOCAL_CODEC_ADDR:-127.0.0.1:8081}"
SIM_ADDR="${RUN_LOCAL_SIM_ADDR:-127.0.0.1:8090}"
GATEWAY_ADDR="${RUN_LOCAL_GATEWAY_ADDR:-127.0.0.1:8088}"
METRICS_ADDR="${RUN_LOCAL_METRICS_ADDR:-127.0.0.1:9464}"

if [ -t 2 ]; then
	say() { printf '\033[1mrun-local:\033[0m %s\n' "$*" >&2; }
else
	say() { printf 'run-local: %s\n' "$*" >&2; }
fi
die() { say "$*"; exit 1; }

[ -n "$TEMPORAL" ] && [ -x "$TEMPORAL" ] || die "Temporal CLI not found${TEMPORAL:+ at $TEMPORAL}; run: make tools"

# Only what this script started is stopped, by process id: SIGTERM, which
# every child handles gracefully, then SIGKILL for any still there after 20s.
pids=()
cleanup() {
	trap - EXIT INT TERM HUP
	trap '' INT TERM HUP # a second Ctrl-C must not cut the cleanup short
	if [ ${#pids[@]} -gt 0 ]; then
		say "stopping ${#pids[@]} background process(es)"
		kill -TERM "${pids[@]}" 2>/dev/null || true
		local left i
		for i in $(seq 1 200); do
			left=()
			for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
			[ ${#left[@]} -gt 0 ] || break
			[ "$i" -lt 200 ] || { say "killing ${#left[@]} process(es) still running after 20s: ${left[*]}"; kill -KILL "${left[@]}" 2>/dev/null || true; }
			sleep 0.1
		done
		wait "${pids[@]}" 2>/dev/null || true
	fi
}
# Each signal exits with 128+its number; the EXIT trap then cleans up.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

for a in "127.0.0.1:$TEMPORAL_PORT" "127.0.0.1:$UI_PORT" "$CODEC_ADDR" "$GATEWAY_ADDR" "$METRICS_ADDR"; do
	port_busy "$a" && die "$a is already in use: another \`make run\` or Temporal dev server? Stop it first."
done

say "pid $$; Ctrl-C or \`kill $$\` stops the stack"
say "building bin/ (worker, starter, simulator, codecserver, sealkey, gateway)"
"$GO" build -o "$BIN/" ./worker ./starter ./simulator ./codecserver ./sealkey ./gateway

# .local holds the dev payload key, the codec token, the Temporal database
# and the logs; it is git-ignored and survives restarts.
mkdir -p "$LOCAL"
chmod 700 "$LOCAL"
umask 077

if [ ! -s "$LOCAL/codec-keys" ]; then
	key="$("$BIN/codecserver" -generate-key)"
	printf '# dev payload key, made by scripts/run-local.sh; format id:base64key, last line encrypts\ndev-%s:%s\n' \
		"$(date +%Y%m%d)" "$key" >"$LOCAL/codec-keys"
	say "generated a dev payload key in .local/codec-keys"
fi
# The dev seal key pair: the private half for the worker only, the public
# half for whatever seals PINs and codes (starter, clients). The codec server
# gets neither, so the UI shows sealed secrets as opaque tokens.
if [ ! -s "$LOCAL/seal-private-keys" ]; then
	{
		echo '# dev seal keys (worker only), made by scripts/run-local.sh; format id:base64, last line seals'
		"$BIN/sealkey" generate -id "dev-seal-$(date +%Y%m%d)"
	} >"$LOCAL/seal-private-keys"
	say "generated a dev seal key pair in .local/seal-private-keys"
fi
if [ ! -s "$LOCAL/seal-public-keys" ] || [ "$LOCAL/seal-private-keys" -nt "$LOCAL/seal-public-keys" ]; then
	WA_SEAL_PRIVATE_KEYS='' WA_SEAL_PRIVATE_KEYS_FILE="$LOCAL/seal-private-keys" \
		"$BIN/sealkey" public >"$LOCAL/seal-public-keys"
fi
if [ ! -s "$LOCAL/codec-token" ]; then
	head -c32 /dev/urandom | base64 | tr -d '\n' >"$LOCAL/codec-token"
fi
if [ ! -s "$LOCAL/api-token" ]; then
	head -c32 /dev/urandom | base64 | tr -d '\n' >"$LOCAL/api-token"
fi
# The dev Meta app secret signs the simulator's webhooks and is checked by
# the gateway; the verify token answers the subscription handshake.
for f in webhook-app-secret webhook-verify-token; do
	[ -s "$LOCAL/$f" ] || head -c32 /dev/urandom | base64 | tr -d '\n' >"$LOCAL/$f"
done
umask 022

# The codec server decrypts payloads for Temporal UI. The dev UI of
# `temporal server start-dev` cannot send a bearer token, so it runs without
# one, on loopback only. WA_CODEC_REQUIRE_AUTH=1 requires the token in
# .local/codec-token instead (for the temporal CLI's --codec-auth); the UI
# then shows payloads encrypted. It gets the public seal keys, so that
# `temporal ... --codec-endpoint` seals the PINs and codes it sends, and
# never the private ones.
unset WA_CODEC_KEYS WA_SEAL_PUBLIC_KEYS WA_SEAL_PRIVATE_KEYS WA_SEAL_PRIVATE_KEYS_FILE
export WA_SEAL_PUBLIC_KEYS_FILE="$LOCAL/seal-public-keys"
if [ "${WA_CODEC_REQUIRE_AUTH:-}" = 1 ]; then
	WA_CODEC_KEYS_FILE="$LOCAL/codec-keys" WA_CODEC_AUTH_TOKEN_FILE="$LOCAL/codec-token" \
		"$BIN/codecserver" -addr "$CODEC_ADDR" >"$LOCAL/codecserver.log" 2>&1 &
else
	WA_CODEC_KEYS_FILE="$LOCAL/codec-keys" WA_CODEC_AUTH_TOKEN='' WA_CODEC_AUTH_TOKEN_FILE='' \
		"$BIN/codecserver" -addr "$CODEC_ADDR" -insecure-no-auth >"$LOCAL/codecserver.log" 2>&1 &
fi
pids+=($!)

say "starting Temporal dev server on :$TEMPORAL_PORT (UI :$UI_PORT), state in .local/temporal.db"
"$TEMPORAL" server start-dev \
	--db-filename "$LOCAL/temporal.db" \
	--port "$TEMPORAL_PORT" --ui-port "$UI_PORT" \
	--search-attribute WhatsAppStage=Keyword \
	--search-attribute WhatsAppWABAID=Keyword \
	--search-attribute WhatsAppPhoneNumberID=Keyword \
	--search-attribute WhatsAppWABAState=Keyword \
	--ui-codec-endpoint "http://$CODEC_ADDR" \
	>"$LOCAL/temporal.log" 2>&1 &
temporal_pid=$!
pids+=("$temporal_pid")

for i in $(seq 1 120); do
	if "$TEMPORAL" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT" >/dev/null 2>&1; then
		break
	fi
	kill -0 "$temporal_pid" 2>/dev/null || { tail -n 20 "$LOCAL/temporal.log" >&2; die "Temporal dev server exited; log above (.local/temporal.log)"; }
	[ "$i" -lt 120 ] || die "Temporal dev server not ready after 60s; see .local/temporal.log"
	sleep 0.5
done
say "Temporal is up"

token_set=""
if [ -n "${WHATSAPP_ACCESS_TOKEN:-}" ] || [ -n "${WHATSAPP_ACCESS_TOKEN_FILE:-}" ]; then token_set=1; fi
if [ -n "${GRAPH_API_URL:-}" ] && [ -n "$token_set" ]; then
	say "using the Graph API at $GRAPH_API_URL (no simulator)"
else
	if [ -n "${GRAPH_API_URL:-}" ] || [ -n "$token_set" ]; then
		say "GRAPH_API_URL and a token must both be set to use a real Graph API; using the simulator"
	fi
	port_busy "$SIM_ADDR" && die "$SIM_ADDR is already in use: stop the other simulator first"
	# The simulator's state (numbers, codes, 72-hour windows, IDs) lives in
	# .local next to Temporal's, so a workflow that survives a restart finds
	# the numbers it was working on; `make clean` forgets both.
	# It sends Meta's signed webhooks (name review outcomes, account
	# updates) to the gateway, which passes them to the runs.
	GRAPHSIM_WEBHOOK_APP_SECRET='' GRAPHSIM_WEBHOOK_APP_SECRET_FILE='' \
		"$BIN/simulator" -addr "$SIM_ADDR" -state "$LOCAL/graphsim-state.json" \
		-webhook-url "http://$GATEWAY_ADDR/webhooks/whatsapp" -webhook-app-secret-file "$LOCAL/webhook-app-secret" \
		>"$LOCAL/simulator.log" 2>&1 &
	pids+=($!)
	for i in $(seq 1 40); do
		port_busy "$SIM_ADDR" && break
		[ "$i" -lt 40 ] || die "simulator did not start; see .local/simulator.log"
		sleep 0.25
	done
	export GRAPH_API_URL="http://$SIM_ADDR/v21.0"
	export WHATSAPP_ACCESS_TOKEN=sim-token
	unset WHATSAPP_ACCESS_TOKEN_FILE
fi

cat >&2 <<MSG

  Temporal UI     http://localhost:$UI_PORT   (payloads decrypted by the codec server on $CODEC_ADDR)
  Graph API       $GRAPH_API_URL
  Simulator admin http://$SIM_ADDR/_sim/   (codes: curl -s $SIM_ADDR/_sim/codes/PHONE_NUMBER_ID)
  Logs            .local/temporal.log, .local/codecserver.log, .local/simulator.log, .local/gateway.log

  In another terminal:
    WA_PIN=123456 ./scripts/starter.sh onboard --waba 100000000000001 --cc 1 --number 5551234567 --name "Acme Support"
    ./scripts/starter.sh status +15551234567

  Ctrl-C stops everything; state is kept in .local/ for the next run.

MSG

export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT" TEMPORAL_NAMESPACE=default
export WA_CODEC_KEYS_FILE="$LOCAL/codec-keys"
unset WA_SEAL_PRIVATE_KEYS
export WA_SEAL_PRIVATE_KEYS_FILE="$LOCAL/seal-private-keys"
# For the gateway: the same app secret as the simulator's.
unset WA_WEBHOOK_APP_SECRET WA_WEBHOOK_VERIFY_TOKEN
export WA_WEBHOOK_APP_SECRET_FILE="$LOCAL/webhook-app-secret" WA_WEBHOOK_VERIFY_TOKEN_FILE="$LOCAL/webhook-verify-token"
export LOG_FORMAT="${LOG_FORMAT:-console}"
# The HTTP API and Meta's webhooks: the public seal keys
# exported above seal PINs and codes; the bearer token is .local/api-token.
WA_GATEWAY_ADDR="$GATEWAY_ADDR" WA_API_TOKEN='' WA_API_TOKEN_FILE="$LOCAL/api-token" \
	TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://localhost:$UI_PORT}" \
	"$BIN/gateway" >"$LOCAL/gateway.log" 2>&1 &
pids+=($!)
say "HTTP API on http://$GATEWAY_ADDR (token in .local/api-token, log .local/gateway.log)"
# The worker runs as a job waited for, not exec'd nor in the foreground, so
# that a signal to this script alone also reaches the trap at once; the
# trap then stops the worker gracefully with the rest.
say "worker metrics on http://$METRICS_ADDR/metrics (/healthz, /readyz)"
WA_METRICS_ADDR="$METRICS_ADDR" "$BIN/worker" &
worker_pid=$!
pids+=("$worker_pid")
set +e
wait "$worker_pid"
status=$?
set -e
say "worker exited with status $status"
exit "$status"
