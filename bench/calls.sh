#!/usr/bin/env bash
# Call benchmark: zentrale next to Kamailio 5.6 in the same run (issue 12, Speed).
#
# How to run (as root, from anywhere):   bench/calls.sh [--seconds 10] [--held 3000] ...
#   It installs its peers if missing (sip-tester, kamailio: Debian packages; not in
#   scripts/setup-debian.sh, CI does not need them), builds the release binary and runs
#   bench/calls.py, which prints the figures side by side.
#
# What it measures (details in bench/calls.py): a sipp caller calls a user with two registered
# sipp phones, Digest on the INVITE; one phone answers after 100 ms, the other is cancelled;
# BYE after the hold time. zentrale (B2BUA, FollowMe) and Kamailio (registrar + tm forking,
# bench/calls/kamailio.cfg) do the same job:
#   * call attempts per second, held 1 s (fixed-rate steps, highest without failures).
#     Target: zentrale >= 0.5x Kamailio (a B2BUA does twice the transactions of a proxy).
#   * calls held at once (--held) and the memory per active call.
# Benchmarks are not in CI; numbers depend on the machine (it prints the core count).
#
# Figures, 2026-12-04, this 2-core VM, --start 300 --bisect 2 --seconds 8, quiet (load < 2):
#   before the 2 MiB SIP receive buffer: zentrale passed 618/s (failed 675), Kamailio passed
#     1138/s (failed 1265): 0.54x
#   after: zentrale passed 759/s (failed 843), 22.1 KB per active call; in the same run
#     Kamailio passed 1012/s, failed 1518/s, and then failed every call at 1265 and 1138
#     (after the overload step it did not recover), so against its earlier 1138: 0.67x
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/peers.sh
. bench/peers.sh
cargo build --release
exec python3 bench/calls.py "$@"
