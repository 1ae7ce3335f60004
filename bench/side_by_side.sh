#!/usr/bin/env bash
# The same Cloudflare probe (create and delete a TXT record under
# _acme-challenge.www.example.com) done three ways against one mock with a
# fixed latency per request: acme-token's check, dns-lexicon used as a
# library (bench/lexicon_probe.py), and a plain curl script
# (bench/curl_probe.sh). Runs are interleaved, one of each per round, so
# all three see the same machine load. Prints the median wall time of each,
# the requests each sent, and the ratios to acme-token.
#
# Usage: bench/side_by_side.sh [LATENCY_MS] [ROUNDS]
# Needs: pip install -r bench/requirements.txt, jq, curl.
# Talks only to the mock on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

latency_ms=${1:-50}
rounds=${2:-10}

cargo build --release --workspace --quiet
work=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
write_one_zone_scenario "$work/scenario.yaml" "$latency_ms"
start_mock "$work/scenario.yaml" "$work"
export CF_BENCH_TOKEN=$BENCH_TOKEN
export NO_PROXY=127.0.0.1,localhost

acme_token() {
    target/release/kubectl-acme_token check cloudflare --credential env:CF_BENCH_TOKEN \
        --domain www.example.com --endpoint "cloudflare=$MOCK_URL" -o json
}
lexicon() { python3 bench/lexicon_probe.py "$MOCK_URL" www.example.com; }
curl_script() { bench/curl_probe.sh "$MOCK_URL" www.example.com; }

# Requests each tool sends, counted in the mock's log around one run.
requests_of() {
    local before after
    before=$(grep -c 'cloudflare request' "$work/mock.log" || true)
    "$@" > /dev/null
    after=$(grep -c 'cloudflare request' "$work/mock.log" || true)
    echo $((after - before))
}
for tool in acme_token lexicon curl_script; do
    echo "$tool: $(requests_of "$tool") requests"
done

acme=() lex=() crl=()
for _ in $(seq 1 "$rounds"); do
    acme+=("$(time_ms acme_token)")
    lex+=("$(time_ms lexicon)")
    crl+=("$(time_ms curl_script)")
done
m_acme=$(median "${acme[@]}")
m_lex=$(median "${lex[@]}")
m_crl=$(median "${crl[@]}")
echo "latency ${latency_ms} ms, ${rounds} interleaved rounds, median wall time:"
echo "  acme-token ${m_acme} ms"
echo "  lexicon    ${m_lex} ms (acme-token / lexicon = $(python3 -c "print(f'{$m_acme / $m_lex:.2f}')"))"
echo "  curl       ${m_crl} ms (acme-token / curl = $(python3 -c "print(f'{$m_acme / $m_crl:.2f}')"))"
leftover=$(grep -c 'method=POST' "$work/mock.log" || true)
echo "creates sent: ${leftover}; the mock's zone is checked empty of probe records below"
curl -sS -H "Authorization: Bearer $BENCH_TOKEN" "$MOCK_URL/zones" | jq -r '.result[0].id' | while read -r zone; do
    count=$(curl -sS -H "Authorization: Bearer $BENCH_TOKEN" "$MOCK_URL/zones/$zone/dns_records?type=TXT" | jq '.result | length')
    echo "TXT records left in example.com: $count"
done
