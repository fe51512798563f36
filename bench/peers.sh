#!/usr/bin/env bash
# What the SIP benchmarks (bench/sip.sh, bench/calls.sh) need before they run: the base
# packages, their peers sipp and Kamailio (Debian packages sip-tester and kamailio: not in
# scripts/setup-debian.sh, CI does not need them) with the packaged Kamailio service stopped,
# and cargo on the PATH of the calling script (source this file, do not run it).
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
