#!/usr/bin/env bash
# The Cloudflare probe done by hand with curl: the requests acme-token sends
# for one check (token verify, the zone walk one label at a time, existing
# record list, create, read-back, delete, confirming list), one after
# another as a shell script runs them.
#
# Usage: bench/curl_probe.sh BASE_URL DOMAIN
# The API token comes from the CF_BENCH_TOKEN environment variable.
set -euo pipefail

base=$1
fqdn="_acme-challenge.$2"
auth="Authorization: Bearer $CF_BENCH_TOKEN"

call() {
    curl -sS --fail-with-body -H "$auth" "$@"
}

call "$base/user/tokens/verify" > /dev/null

# Walk up the labels until a zone is found, as cert-manager does.
name=$fqdn
zone_id=""
while [ -z "$zone_id" ] && [[ "$name" == *.* ]]; do
    zone_id=$(call -G "$base/zones" --data-urlencode "name=$name" | jq -r '.result[0].id // empty')
    name=${name#*.}
done
[ -n "$zone_id" ] || { echo "no zone found for $fqdn" >&2; exit 1; }

records="$base/zones/$zone_id/dns_records"
list() {
    call -G "$records" --data-urlencode per_page=100 --data-urlencode type=TXT --data-urlencode "name=$fqdn"
}

value="curl-bench-$(head -c 21 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
list > /dev/null
record_id=$(call -X POST "$records" -H 'Content-Type: application/json' \
    --data "{\"type\":\"TXT\",\"name\":\"$fqdn\",\"content\":\"$value\",\"ttl\":120}" | jq -r '.result.id')
list | jq -e --arg id "$record_id" 'any(.result[]; .id == $id)' > /dev/null
call -X DELETE "$records/$record_id" > /dev/null
list | jq -e --arg id "$record_id" 'all(.result[]; .id != $id)' > /dev/null
