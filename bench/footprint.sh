#!/usr/bin/env bash
# Footprint of the release binary: cold start of `--version` and of
# `check --help` (hyperfine), peak RSS of one check against the mock
# (/usr/bin/time -v), and the stripped binary size. The fleet's peak RSS
# comes from bench/fleet.sh.
#
# Usage: bench/footprint.sh
# Needs: hyperfine (apt-get install hyperfine), GNU time (/usr/bin/time).
# Talks only to the mock on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

cargo build --release --workspace --quiet
bin=target/release/kubectl-acme_token
work=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

hyperfine --warmup 5 --runs 100 --shell=none "$bin --version" "$bin check --help" \
    --export-markdown "$work/start.md" > /dev/null
cat "$work/start.md"

write_one_zone_scenario "$work/scenario.yaml" 0
start_mock "$work/scenario.yaml" "$work"
CF_BENCH_TOKEN=$BENCH_TOKEN /usr/bin/time -v -o "$work/time.txt" "$bin" check cloudflare \
    --credential env:CF_BENCH_TOKEN --domain www.example.com --endpoint "cloudflare=$MOCK_URL" -o json > /dev/null
echo "peak RSS of one check: $(awk -F': ' '/Maximum resident set size/ { printf "%.1f MiB", $2 / 1024 }' "$work/time.txt")"

# The release profile strips symbols; strip a copy again to be sure.
cp "$bin" "$work/stripped"
strip "$work/stripped"
echo "binary size: $(stat -c %s "$bin") bytes as built, $(stat -c %s "$work/stripped") bytes after strip"
