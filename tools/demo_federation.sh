#!/usr/bin/env bash
# `make demo-federation`: a plant's instance and the regulator's instance side by side on one
# managed chain (SPEC §3 "The regulator's instance", issue 21 item 6).
#
# The plant: the demo data set in its own data directory, on the managed anvil it runs
# (the demo anchors each day of its quarter on time), its administrator's three edits
# (`demo --tamper`) made after anchoring. The regulator: its own data directory and
# database, the plant's chain read over JSON-RPC with the trust file the chain's owner
# published, no key. The regulator registers DIS-SZ01 with the plant's submitter address
# and imports its events over HTTP with a reader's token: what verifies is stored, the
# edited receipt is refused with its reason, and both portals are served.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${FEDERATION_DIR:-$ROOT/data-federation}
HOST=${HOST:-127.0.0.1}
PLANT_PORT=${PLANT_PORT:-5001}
REGULATOR_PORT=${REGULATOR_PORT:-5002}
CHAIN_PORT=${CHAIN_PORT:-8547}
DEVICES=${DEVICES:-300}
TRACE="$ROOT/.venv/bin/traceability"
PY="$ROOT/.venv/bin/python"
PLANT_URL="http://$HOST:$PLANT_PORT"
REGULATOR_URL="http://$HOST:$REGULATOR_PORT"
mkdir -p "$BASE/plant" "$BASE/regulator"

PLANT_ENV=(TRACE_ENV=development TRACE_DATA_DIR="$BASE/plant" TRACE_LEDGER_PORT="$CHAIN_PORT"
	TRACE_PUBLIC_URL="$PLANT_URL"
	TRACE_RATE_SCHEDULES="$ROOT/traceability/demo/data/rates-example.toml"
	TRACE_PLANT_OPERATIONS="$ROOT/traceability/demo/data/operations.toml")
REGULATOR_ENV=(TRACE_ENV=development TRACE_DATA_DIR="$BASE/regulator" TRACE_LEDGER_MODE=rpc
	TRACE_LEDGER_URL="http://127.0.0.1:$CHAIN_PORT" TRACE_LEDGER_TRUST_FILE="$BASE/trust.json"
	TRACE_PUBLIC_URL="$REGULATOR_URL")
plant() { env "${PLANT_ENV[@]}" "$TRACE" "$@"; }
regulator() { env "${REGULATOR_ENV[@]}" "$TRACE" "$@"; }
wait_for() {
	for _ in $(seq 1 120); do
		if "$PY" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
			"$1/api/v1/health" 2>/dev/null; then
			return 0
		fi
		sleep 1
	done
	echo "no answer from $1" >&2
	return 1
}

pids=()
# Ctrl-C stops both servers (each stops its own workers; the plant's, the managed chain)
trap 'kill -INT "${pids[@]}" 2>/dev/null || true; wait' EXIT INT TERM

echo "== the plant's instance ($BASE/plant): demo data, anchored on its managed chain"
if [ ! -e "$BASE/plant/.tampered" ]; then
	plant demo --devices "$DEVICES" --tamper
	touch "$BASE/plant/.tampered"
fi
plant init >/dev/null
env "${PLANT_ENV[@]}" "$TRACE" serve --host "$HOST" --port "$PLANT_PORT" &
pids+=($!)
wait_for "$PLANT_URL"
plant ledger trust --out "$BASE/trust.json" 2>/dev/null
SUBMITTER=$("$PY" -c "import json,sys,urllib.request; \
print(json.load(urllib.request.urlopen(sys.argv[1]))['submitter'])" "$PLANT_URL/api/v1/ledger")
TOKEN=$(plant tokens create js.auditor | tail -n 1)

echo "== the regulator's instance ($BASE/regulator): its own database, the chain read by RPC"
regulator init >/dev/null
if [ ! -e "$BASE/regulator/.registered" ]; then
	regulator orgs add REG-JS --kind regulator --name 江苏省生态环境厅 --region 320000
	regulator orgs add DIS-SZ01 --kind dismantler --name 苏州澄湖再生资源有限公司 \
		--region 320500 --license JSFD-3205-003 --submitter "$SUBMITTER"
	echo demo-pass-2026 | regulator users add js.auditor --org REG-JS --role auditor --password-stdin
	touch "$BASE/regulator/.registered"
fi

echo "== traceability import DIS-SZ01 --from $PLANT_URL (each event verified on chain first)"
regulator import DIS-SZ01 --from "$PLANT_URL" --token "$TOKEN" || true
regulator audit refresh >/dev/null 2>&1 || true
env "${REGULATOR_ENV[@]}" "$TRACE" serve --host "$HOST" --port "$REGULATOR_PORT" &
pids+=($!)
wait_for "$REGULATOR_URL"

cat <<EOF

The plant's instance:      $PLANT_URL/portal   (sz.manager / demo-pass-2026)
The regulator's instance:  $REGULATOR_URL/portal   (js.auditor / demo-pass-2026)
  the regulator's findings of the import: $REGULATOR_URL/portal/anomalies?rule=import_refused
Import again:  make demo-federation (idempotent), or on the regulator's side
  traceability import DIS-SZ01 --from $PLANT_URL --token TOKEN --watch
Ctrl-C stops both.
EOF
wait
