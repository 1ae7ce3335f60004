#!/usr/bin/env bash
# Runs the fault matrix test and writes its results table into
# docs/reliability.md, between the fault-matrix markers.
#
# Usage: tests/write_fault_matrix.sh
# Talks only to the mock on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

table=$(mktemp)
trap 'rm -f "$table"' EXIT
cargo build --workspace --bins --quiet
FAULT_MATRIX_TABLE="$table" cargo nextest run -p acme-token-tests --test fault_matrix --no-capture

python3 - "$table" docs/reliability.md <<'PY'
import sys
table = open(sys.argv[1]).read()
path = sys.argv[2]
text = open(path).read()
start, end = "<!-- fault-matrix:start -->\n", "<!-- fault-matrix:end -->"
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + start + table + end + tail)
PY
echo "updated docs/reliability.md"
