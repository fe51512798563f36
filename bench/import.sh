#!/usr/bin/env bash
# Import benchmark (see bench/import.py): 10,000 users from xlsx, rows/s and peak RSS beside
# openpyxl and the REST API. Installs GNU time, builds the release binary, runs with the test
# venv's Python (openpyxl). Arguments go to bench/import.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if [ ! -x /usr/bin/time ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends time
fi
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release
exec target/test-venv/bin/python bench/import.py "$@"
