#!/usr/bin/env bash
# Provisioning benchmark (see bench/provisioning.py): installs its peers (nginx, wrk, tftpd-hpa),
# builds the release binary, runs. Arguments go to bench/provisioning.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
missing=()
for p in nginx-light wrk tftpd-hpa; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The packaged services are not what we measure; stop them if the install started them.
systemctl stop nginx tftpd-hpa 2>/dev/null || true
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release
exec python3 bench/provisioning.py "$@"
