#!/usr/bin/env bash
# Fax benchmark: concurrent T.38 receptions, every document identical (issue 15, Speed).
#
# How to run (from anywhere; under the shared lock: flock /tmp/bench.lock bench/fax.sh):
#   bench/fax.sh [--faxes 200] [--users 200] [--pages 3] [--keep] [--binary PATH]
#   It builds the release zentrale and the release faxsend (examples/faxsend: spandsp's
#   sending terminal behind a SIP UAC, the far-end fax machine) and runs bench/fax.py, which
#   prints the figures.
#
# What it measures (details in bench/fax.py): one fax alone, then --faxes faxsends at once,
# each calling a fax extension, re-INVITEing to T.38 and sending a 3-page chart
# (tests/fax/chart.sh) over UDPTL with redundancy: T.30 successes, the batch's wall time
# against the single reception's, every received TIFF against the chart (tiffcmp -t),
# zentrale's CPU and RSS. Target (issue 15): 200 at once on 2 cores, all identical, the wall
# time bound by the T.30 handshake, not the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release --bin zentrale --example faxsend
exec python3 bench/fax.py "$@"
