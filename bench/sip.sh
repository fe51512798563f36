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
scripts/setup-debian.sh
missing=()
for p in sip-tester kamailio; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The packaged service is not what we measure (it would also hold port 5060).
systemctl stop kamailio >/dev/null 2>&1 || service kamailio stop >/dev/null 2>&1 || true
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release
exec python3 bench/sip.py "$@"
