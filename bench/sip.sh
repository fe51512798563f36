#!/usr/bin/env bash
# SIP registrar benchmark: zentrale next to Kamailio 5.6 in the same run (issue 11, Speed).
#
# How to run (as root, from anywhere):   bench/sip.sh [--devices 2000] [--rounds 2] ...
#   It installs its peers if missing (sip-tester, kamailio: Debian packages; not in
#   scripts/setup-debian.sh, CI does not need them), builds the release binary and runs
#   bench/sip.py, which prints the figures side by side.
#
# What it measures (details in bench/sip.py):
#   * REGISTER with Digest per second: sipp registers 2,000 distinct devices round-robin, each
#     with its own credentials (read from its provisioning file, the phone's path), a full
#     REGISTER / 401 / REGISTER+Authorization / 200 exchange per registration, 200 in flight.
#     Against zentrale (release build, temp data dir) and Kamailio (bench/sip/kamailio.cfg:
#     registrar + auth_db over db_text with the same 2,000 accounts). Target: ratio >= 1.0.
#   * OPTIONS per second, the same way.
#   * Memory per binding: zentrale's RSS before and after the 2,000 bindings, divided.
# Benchmarks are not in CI; numbers depend on the machine (it prints the core count).
#
# Figures, 2026-12-04, this 2-core VM, release build, --rounds 3 (REGISTER/s per round):
#   before the 2 MiB SIP receive buffer and sipp -buff_size, quiet (load 1.3):
#     zentrale 5646 7674 5632   Kamailio 8859 8503 8729   best 0.87x
#     (a capture showed 0.7-0.8% of all answers lost in sipp's 64 KiB socket, to both
#     servers, each a 500 ms stall; with sipp's buffer raised, 0.7% of zentrale's requests
#     were dropped in its own 208 KiB socket instead)
#   after, no other build running (load average still high from a finished 1,000-call
#   voicemail bench):
#     zentrale 16158 16590 18072   Kamailio 11631 12332 11702   best 1.47x (each round >= 1.35x)
#     OPTIONS best 27079 vs 33838 (0.80x); 3275 bytes per binding
#   after, with another engineer's builds and benches running (load 20-49):
#     zentrale 6863 9612 8638   Kamailio 6661 7188 7335   best 1.31x (each round >= 1.03x)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/peers.sh
. bench/peers.sh
cargo build --release
exec python3 bench/sip.py "$@"
