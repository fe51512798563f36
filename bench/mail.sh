#!/usr/bin/env bash
# Mail benchmark (see bench/mail.py): 5,000 messages with a 100 KB attachment from enqueue to
# accepted by Postfix's smtp-sink, zentrale's spool next to Postfix relaying the same messages
# (sendmail → its queue → the same kind of sink) in the same run; RSS of both.
# Installs postfix (for smtp-sink and as the peer), builds the release binary, runs.
# Usage: bench/mail.sh [MESSAGES]   (default 5000)
# It reconfigures the local Postfix for the run (relayhost to the sink) and restores main.cf.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
if ! dpkg -s postfix 2>/dev/null | grep -q '^Status: install ok installed'; then
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
    echo "postfix postfix/mailname string bench.invalid" | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postfix
fi
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
cargo build --release
exec python3 bench/mail.py "$@"
