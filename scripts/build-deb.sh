#!/usr/bin/env bash
# Builds the Debian package (metadata in Cargo.toml [package.metadata.deb]) and prints its path.
# Extra arguments go to cargo-deb (e.g. --no-strip).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-debian.sh --deb
# setup-debian.sh ran in a child shell; make its cargo visible here too.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi

echo "build-deb: cargo deb $*"
# cargo-deb builds the release binary itself and prints the .deb path as its last stdout line.
deb=$(cargo deb "$@" | tail -n 1)
if [ ! -f "$deb" ]; then
    echo "build-deb: cargo deb did not report a .deb file (got: $deb)" >&2
    exit 1
fi
echo "build-deb: $deb"
