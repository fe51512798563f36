#!/usr/bin/env bash
# Command (a) of the README: builds and runs the daemon. Arguments go to `zentrale serve`,
# e.g. scripts/run.sh --config my.toml  (no config: embedded defaults, data in ./zentrale-data/).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-debian.sh
# setup-debian.sh ran in a child shell; make its cargo visible here too.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi

exec cargo run --release -- serve "$@"
