#!/usr/bin/env bash
# Measures one Route53 check (static keys) against the mock with a fixed
# latency injected into every HTTP request, next to its floor: the latency
# times the longest chain of requests that must run one after another.
#
# Usage: bench/route53_one_check.sh [LATENCY_MS] [RUNS]
# Needs: cargo build --release --workspace (run first by this script).
# Talks only to the mock (HTTP and DNS) on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

latency_ms=${1:-50}
runs=${2:-10}
key_id="AKIABENCHMARK0000001"
secret="bench-secret-access-key-000000000000000"

cargo build --release --workspace --quiet
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/scenario.yaml" <<YAML
route53:
  latency_ms: $latency_ms
  zones:
    - name: example.com
  users:
    - name: bench
      access_key_id: $key_id
      secret_access_key: $secret
      policy:
        - actions: ["route53:*"]
YAML

# The mock logs every request at debug level; that log is the request plan.
# shellcheck source=bench/lib.sh
. bench/lib.sh
start_mock "$work/scenario.yaml" "$work"
mock_pid=$MOCK_PID
url=$(mock_endpoint route53)
dns=$(mock_endpoint dns)

run_check() {
    AWS_EC2_METADATA_DISABLED=true BENCH_KEY_ID="$key_id" BENCH_SECRET="$secret" \
        target/release/kubectl-acme_token check route53 \
        --credential accessKeyIDSecretRef=env:BENCH_KEY_ID \
        --credential secretAccessKeySecretRef=env:BENCH_SECRET \
        --domain www.example.com \
        --endpoint "route53=$url" --endpoint "sts=$url" \
        --dns01-recursive-nameservers "$dns" -o json
}

# One run to show the request plan.
: > "$work/mock.log"
run_check > "$work/report.json"
requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checks"][0]["requests"])' "$work/report.json")
echo "request plan (from the mock's log, in arrival order; STS calls show as step Sts):"
sed -n 's/.*method=\([A-Z]*\) path=\([^ ]*\).*step=\([A-Za-z]*\).*/  \1 \2 (\3)/p' "$work/mock.log"
echo "requests: $requests"

# Floor: GetCallerIdentity overlaps the SOA walk (DNS, no injected latency)
# and ListHostedZonesByName; then UPSERT, GetChange (read-back alongside),
# DELETE, GetChange (confirming read alongside).
chain=5
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
