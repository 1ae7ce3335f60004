# Helpers shared by the benchmark scripts; source it after `cd` to the
# repository root. Every server started here listens on 127.0.0.1 only.

# Token of the single-check scenario; 40 characters like an API token.
BENCH_TOKEN="benchToken000000000000000000000000000001"

# Writes the single-check scenario (zone example.com, one token with
# Zone:Read and DNS:Edit) with LATENCY_MS per request to FILE.
write_one_zone_scenario() {
    local file=$1 latency_ms=$2
    cat > "$file" <<YAML
cloudflare:
  latency_ms: $latency_ms
  accounts:
    - id: 0b5e2f7e5c1d4a3b9c8d7e6f5a4b3c2d
      name: Bench
  zones:
    - name: example.com
      account: 0b5e2f7e5c1d4a3b9c8d7e6f5a4b3c2d
  tokens:
    - value: "$BENCH_TOKEN"
      owner: user
      status: active
      permissions: ["Zone:Read", "DNS:Edit"]
      zones: all
YAML
}

# Starts the mock with SCENARIO, logging every request at debug level to
# DIR/mock.log, and sets MOCK_PID, MOCK_DIR and MOCK_URL (the Cloudflare base
# URL, empty without a cloudflare section). BIN_DIR defaults to
# target/release. The mock stops when its stdin closes, so this holds a FIFO
# open on fd 3; the caller's EXIT trap should kill "$MOCK_PID".
start_mock() {
    local scenario=$1 dir=$2 bin_dir=${3:-target/release}
    mkfifo "$dir/mock.stdin"
    NO_COLOR=1 RUST_LOG=acme_token_mock=debug "$bin_dir/acme-token-mock" --scenario "$scenario" \
        > "$dir/mock.out" 2> "$dir/mock.log" < "$dir/mock.stdin" &
    MOCK_PID=$!
    MOCK_DIR=$dir
    exec 3> "$dir/mock.stdin"
    for _ in $(seq 1 100); do
        grep -q '^ready' "$dir/mock.out" 2>/dev/null && break
        sleep 0.05
    done
    grep -q '^ready' "$dir/mock.out" || { echo "the mock did not start:" >&2; cat "$dir/mock.log" >&2; return 1; }
    MOCK_URL=$(mock_endpoint cloudflare)
}

# Prints the address the running mock reported for NAME (cloudflare,
# route53, sts, dns, kubernetes).
mock_endpoint() {
    awk -v name="$1" '$1 == name { print $2 }' "$MOCK_DIR/mock.out"
}

# Prints the wall time of a command in milliseconds; its output is discarded.
time_ms() {
    local start end
    start=$(date +%s%N)
    "$@" > /dev/null
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

# Prints the median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
