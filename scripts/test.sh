#!/usr/bin/env bash
# Command (b) of the README: runs every test. Arguments go to nextest (e.g. a test name filter).
# Exits non-zero if the nextest run or the doc tests fail; both always run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-debian.sh
# setup-debian.sh ran in a child shell; make its cargo visible here too.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi

status=0
# nextest does not run doc tests; they go first so nextest's summary is the closing line.
echo "test: cargo test --doc"
cargo test --doc || status=1
echo "test: cargo nextest run --all-targets --no-fail-fast $*"
cargo nextest run --all-targets --no-fail-fast "$@" || status=1

if [ "$status" -ne 0 ]; then
    echo "test: FAILED" >&2
fi
exit "$status"
