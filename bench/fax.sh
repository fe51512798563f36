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
#
# Figures, 2026-12-04, this 2-core VM, release build, under /tmp/bench.lock (the 200 faxsends
# share the 2 cores; the load average of 112 printed at the end is theirs):
#   one fax alone 28.6 s wall (3 pages, 14,400 bit/s, ECM); 200 at once 29.5 s for the batch
#   (1.03x one alone; per fax 28.6-28.8 s); T.30 succeeded 200, failed 0; 201 documents (the
#   single one too), all 201 identical to the chart (tiffcmp -t); zentrale 5.0 s CPU (25 ms per
#   fax, 0.17 cores over the batch), the faxsends 13.2 s; RSS 41 MB before, 97 MB at the peak
#   (~280 KB per reception). The T.30 handshake bounds it, not the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release --bin zentrale --example faxsend
exec python3 bench/fax.py "$@"
