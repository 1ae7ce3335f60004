#!/usr/bin/env bash
# Checks a fleet of 500 Cloudflare solvers over 50 accounts (one API token
# each, 10 ClusterIssuers per token) in one run, against the mock enforcing
# Cloudflare's per-credential limit of 1200 requests per 5 minutes with a
# 5-minute block past it. Prints the wall time next to the bound the
# per-account budget sets, the 429 responses the mock sent, the checks that
# failed, and the peak RSS of the run.
#
# Usage: bench/fleet.sh [LATENCY_MS] [ACCOUNTS] [ISSUERS_PER_ACCOUNT]
# Needs: cargo build --release --workspace (run first by this script).
# Talks only to the mock on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

latency_ms=${1:-0}
accounts=${2:-50}
per_account=${3:-10}

cargo build --release --workspace --quiet
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" "$latency_ms" "$accounts" "$per_account" <<'PY'
import os, sys
work, latency, accounts, per_account = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def token(n):
    # 40 characters, shaped like an API token (not 37 hex like a global key).
    return f"FleetToken{n:04d}".ljust(40, "x")

scenario = [
    "cloudflare:",
    f"  latency_ms: {latency}",
    "  rate_limit: {requests: 1200, window_seconds: 300, block_seconds: 300}",
    "  accounts:",
]
for n in range(accounts):
    scenario.append(f"    - {{id: '{n + 1:032x}', name: 'Fleet {n}'}}")
scenario.append("  zones:")
for n in range(accounts):
    scenario.append(f"    - {{name: fleet{n}.example, account: '{n + 1:032x}'}}")
scenario.append("  tokens:")
for n in range(accounts):
    scenario.append(f"    - value: '{token(n)}'")
    scenario.append("      owner: user")
    scenario.append("      status: active")
    scenario.append("      permissions: ['Zone:Read', 'DNS:Edit']")
    scenario.append(f"      zones: [fleet{n}.example]")
open(os.path.join(work, "scenario.yaml"), "w").write("\n".join(scenario) + "\n")

docs = []
for n in range(accounts):
    docs.append(f"""apiVersion: v1
kind: Secret
metadata: {{name: cf-{n}, namespace: cert-manager}}
type: Opaque
stringData: {{api-token: '{token(n)}'}}""")
    for i in range(per_account):
        name = f"fleet-{n}-{i}"
        docs.append(f"""apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {{name: {name}}}
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    privateKeySecretRef: {{name: {name}-account}}
    solvers:
      - dns01:
          cloudflare:
            apiTokenSecretRef: {{name: cf-{n}, key: api-token}}""")
        docs.append(f"""apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: {name}, namespace: default}}
spec:
  secretName: {name}-tls
  dnsNames: [app{i}.fleet{n}.example]
  issuerRef: {{kind: ClusterIssuer, name: {name}}}""")
open(os.path.join(work, "fleet.yaml"), "w").write("\n---\n".join(docs) + "\n")
PY

# The mock stops when its stdin closes, so this script keeps a FIFO open on fd 3.
mkfifo "$work/stdin"
NO_COLOR=1 RUST_LOG=acme_token_mock=debug target/release/acme-token-mock --scenario "$work/scenario.yaml" \
    > "$work/mock.out" 2> "$work/mock.log" < "$work/stdin" &
mock_pid=$!
exec 3> "$work/stdin"
for _ in $(seq 1 100); do
    grep -q '^ready' "$work/mock.out" 2>/dev/null && break
    sleep 0.05
done
url=$(awk '$1 == "cloudflare" { print $2 }' "$work/mock.out")

start=$(date +%s%N)
status=0
/usr/bin/time -v -o "$work/time.txt" target/release/kubectl-acme_token check -f "$work/fleet.yaml" \
    --endpoint "cloudflare=$url" -o json > "$work/report.json" 2> "$work/stderr.txt" || status=$?
end=$(date +%s%N)
wall_ms=$(( (end - start) / 1000000 ))

python3 - "$work" "$wall_ms" "$status" "$accounts" "$per_account" <<'PY'
import json, re, sys
work, wall_ms, status, accounts, per_account = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
report = json.load(open(f"{work}/report.json"))
checks = report["checks"]
verdicts = {}
for check in checks:
    verdicts[check["verdict"]] = verdicts.get(check["verdict"], 0) + 1
rate_limited = sum(1 for c in checks for f in c.get("findings", []) if f["reason"] == "RateLimited")
requests = sum(c["requests"] for c in checks)
log = open(f"{work}/mock.log").read()
answers_429 = len(re.findall(r"status=429", log))
received = len(re.findall(r"cloudflare request", log))
responses = len(re.findall(r"cloudflare response", log))
per_check = requests / len(checks)
# Per-account budget of the Cloudflare provider: 2 requests/s, burst 60.
rate, burst = 2.0, 60
per_account_requests = per_check * per_account
bound_s = max(0.0, (per_account_requests - burst) / rate)
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{work}/time.txt").read()).group(1))
stderr = open(f"{work}/stderr.txt").read()
print(f"solvers: {len(checks)} over {accounts} accounts ({per_account} each), exit {status}")
print(f"verdicts: {verdicts}")
print(f"requests: {requests} in the report, {received} received and {responses} answered by the mock, {per_check:.1f} per check")
print(f"429 answers from the mock: {answers_429}; RateLimited findings: {rate_limited}")
print(f"budget bound: ({per_account_requests:.0f} requests per account - burst {burst}) / {rate:.0f} per s = {bound_s:.1f} s")
print(f"wall time: {wall_ms / 1000:.1f} s (ratio to bound {wall_ms / 1000 / bound_s:.2f})" if bound_s else f"wall time: {wall_ms / 1000:.1f} s")
print(f"peak RSS: {rss_kb / 1024:.1f} MiB")
print(f"stderr bytes: {len(stderr)}")
PY
