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
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/peers.sh
. bench/peers.sh
cargo build --release
exec python3 bench/sip.py "$@"
