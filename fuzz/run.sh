#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints one summary line per
# target: executions, corpus size and findings. A crash stops nothing: every
# target runs, the crashing input is kept under fuzz/artifacts/TARGET/, and
# the script exits 1 at the end.
#
# Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Needs: cargo install cargo-fuzz (checked with 0.13.2). With
# `--sanitizer none` cargo-fuzz passes only stable rustc flags, so the
# stable toolchain builds the targets; the default address sanitizer would
# need a nightly toolchain.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(manifest config_stage secret_value cloudflare_response)

# Seed corpora: the demo manifests and a few Cloudflare v4 envelopes.
mkdir -p corpus/manifest corpus/config_stage corpus/secret_value corpus/cloudflare_response
cp ../crates/cli/src/demo/manifests.yaml corpus/manifest/demo.yaml
cp ../crates/cli/src/demo/manifests.yaml corpus/config_stage/demo.yaml
printf 'token-with-newline\n' > corpus/secret_value/newline
printf '${CF_API_TOKEN}' > corpus/secret_value/placeholder
printf 'dG9rZW4tdmFsdWUtMDEyMzQ1Njc4OQ==' > corpus/secret_value/base64
printf '\x00\xc8{"success":true,"errors":[],"messages":[],"result":{"id":"f0","status":"active","expires_on":"2030-01-01T00:00:00Z"}}' \
    > corpus/cloudflare_response/verify
printf '\x00\xc8{"success":true,"errors":[],"result":[{"id":"c0","name":"example.com","status":"active","account":{"id":"a0","name":"Org"}}],"result_info":{"total_count":1}}' \
    > corpus/cloudflare_response/zones
printf '\x01\x90{"success":false,"errors":[{"code":6003,"message":"Invalid request headers","error_chain":[{"code":6111,"message":"Invalid format for Authorization header"}]}],"result":null}' \
    > corpus/cloudflare_response/error

cargo fuzz build --release --sanitizer none
failed=0
for target in "${targets[@]}"; do
    log=$(mktemp)
    status=0
    cargo fuzz run --release --sanitizer none "$target" -- -max_total_time="$seconds" -print_final_stats=1 \
        > "$log" 2>&1 || status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
    corpus=$(ls "corpus/$target" | wc -l)
    crashes=$(ls "artifacts/$target" 2>/dev/null | wc -l)
    echo "$target: ${runs:-?} executions in ${seconds} s, corpus ${corpus} inputs, exit ${status}, ${crashes} crash artifacts"
    if [ "$status" -ne 0 ]; then
        failed=1
        tail -n 40 "$log"
    fi
    rm -f "$log"
done
exit "$failed"
