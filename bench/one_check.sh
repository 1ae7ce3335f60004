#!/usr/bin/env bash
# Measures one Cloudflare check against the mock with a fixed latency
# injected into every request, next to its floor: the latency times the
# longest chain of requests that must run one after another.
#
# Usage: bench/one_check.sh [LATENCY_MS] [RUNS]
# Needs: cargo build --release --workspace (run first by this script).
# Talks only to the mock on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

latency_ms=${1:-50}
runs=${2:-10}
token="benchToken000000000000000000000000000001"

cargo build --release --workspace --quiet
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/scenario.yaml" <<YAML
cloudflare:
  latency_ms: $latency_ms
  accounts:
    - id: 0b5e2f7e5c1d4a3b9c8d7e6f5a4b3c2d
      name: Bench
  zones:
    - name: example.com
      account: 0b5e2f7e5c1d4a3b9c8d7e6f5a4b3c2d
  tokens:
    - value: "$token"
      owner: user
      status: active
      permissions: ["Zone:Read", "DNS:Edit"]
      zones: all
YAML

# The mock logs every request at debug level; that log is the request plan.
# shellcheck source=bench/lib.sh
. bench/lib.sh
start_mock "$work/scenario.yaml" "$work"
mock_pid=$MOCK_PID
url=$MOCK_URL

run_check() {
    CF_BENCH_TOKEN="$token" target/release/kubectl-acme_token check cloudflare \
        --credential env:CF_BENCH_TOKEN --domain www.example.com \
        --endpoint "cloudflare=$url" -o json
}

# One run to show the request plan.
: > "$work/mock.log"
run_check > "$work/report.json"
requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"][0]["requests"])' "$work/report.json")
echo "request plan (from the mock's log, in arrival order):"
sed -n 's/.*method=\([A-Z]*\) path=\([^ ]*\).*step=\([A-Za-z]*\).*/  \1 \2 (\3)/p' "$work/mock.log"
echo "requests: $requests"

# Floor: the credential check overlaps the zone walk (3 lookups for
# www.example.com), then list, create, read-back list, delete, confirming list.
chain=8
floor_ms=$((chain * latency_ms))

times=()
for _ in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    run_check > /dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[$((runs / 2))]}
echo "latency ${latency_ms} ms, ${runs} runs: median ${median} ms, min ${sorted[0]} ms, max ${sorted[$((runs - 1))]} ms"
if [ "$floor_ms" -gt 0 ]; then
    echo "floor ${floor_ms} ms (${chain} sequential requests x ${latency_ms} ms); ratio $(python3 -c "print(f'{$median / $floor_ms:.3f}')")"
else
    echo "no latency injected: the median is the fixed overhead (process start, client setup, mock processing)"
fi
