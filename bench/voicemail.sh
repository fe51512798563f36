#!/usr/bin/env bash
# Voicemail benchmark: concurrent recordings with zero lost packets (issue 14, Speed).
#
# How to run (as root: sipp replays pcaps through a raw socket), from anywhere:
#   bench/voicemail.sh [--calls 1000] [--rate 50] [--speech 30] [--keep] [--binary PATH]
#   It installs sipp if missing (Debian sip-tester: not in scripts/setup-debian.sh, CI does not
#   need it), builds the release binary and runs bench/voicemail.py, which prints the figures.
#
# What it measures (details in bench/voicemail.py): sipp callers (uac_pcap) call a user whose
# phones are all off, voicemail answers; after the greeting each caller speaks --speech s of
# continuous A-law and hangs up. Every RTP packet sipp sent is looked for in the recordings
# (zentrale's per-call log line: packets received, lost, late; samples from packets vs sent),
# messages in the box via the API, CPU and RSS per call. No recording peer is installable
# (Asterisk is not in Debian 12, FreeSWITCH never was): the physical frame is printed instead.
#
# Figures, 2026-12-04, this 2-core VM (shared), release build, sipp on the same 2 cores:
#   (filled in below by the runs of that day)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if ! dpkg -s sip-tester 2>/dev/null | grep -q '^Status: install ok installed'; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends sip-tester
fi
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release
exec python3 bench/voicemail.py "$@"
