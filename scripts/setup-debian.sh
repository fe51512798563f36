#!/usr/bin/env bash
# Prepares a Debian 12 machine to build and test zentrale. Idempotent: a second run changes nothing.
# Usage: scripts/setup-debian.sh [--deb]   (--deb also installs cargo-deb for scripts/build-deb.sh)
set -euo pipefail

want_deb=no
for arg in "$@"; do
    case "$arg" in
        --deb) want_deb=yes ;;
        *) echo "setup: unknown argument: $arg (usage: $0 [--deb])" >&2; exit 2 ;;
    esac
done

# Debian packages the build and the tests need. Extend this list, not the logic below.
# baresip-core: baresip without the GTK/X11/ffmpeg modules the `baresip` package recommends.
packages=(curl ca-certificates build-essential pkg-config python3 python3-venv tftp-hpa atftp fail2ban sip-tester baresip-core)
# Fax (src/fax): spandsp-sys builds its vendored spandsp with bindgen (libclang) against libtiff
# and libjpeg; the fax tests make and compare pages with netpbm and libtiff-tools (tiffcmp,
# tiffcp), check PDFs with qpdf and render them with poppler-utils (pdftoppm).
packages+=(clang libclang-dev libtiff-dev libjpeg-dev libtiff-tools netpbm qpdf poppler-utils)

missing=()
for p in "${packages[@]}"; do
    # `dpkg -s` also succeeds for removed-but-not-purged packages, so check the status line.
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: debian packages present: ${packages[*]}"
else
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing debian packages: ${missing[*]}; run this script as root" >&2
        exit 1
    fi
    echo "setup: installing debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Rust toolchain is the machine's (rustup in ~/.cargo); this script does not install it.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: error: cargo not found on PATH nor in \$HOME/.cargo/env;" \
        "this machine's Rust toolchain (>= 1.89, see Cargo.toml) is expected to be installed" >&2
    exit 1
fi
echo "setup: cargo found: $(cargo --version)"

# Test runner used by scripts/test.sh.
if cargo nextest --version >/dev/null 2>&1; then
    echo "setup: cargo-nextest present"
else
    echo "setup: installing cargo-nextest"
    cargo install cargo-nextest --locked
fi

# Python packages the tests use as real peers, pinned, in a venv of the project's own:
# openpyxl fills import files the way a spreadsheet program writes them; aiosmtpd is the SMTP
# server the mail tests script (accept, 4xx, 5xx, drop after DATA, STARTTLS, AUTH).
venv="$(cd "$(dirname "$0")/.." && pwd)/target/test-venv"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import openpyxl, aiosmtpd' 2>/dev/null; then
    echo "setup: test venv present: $venv"
else
    echo "setup: creating test venv $venv (openpyxl, aiosmtpd)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'openpyxl==3.1.5' 'aiosmtpd==1.4.6'
fi

if [ "$want_deb" = yes ]; then
    if cargo deb --version >/dev/null 2>&1; then
        echo "setup: cargo-deb present"
    else
        echo "setup: installing cargo-deb"
        cargo install cargo-deb --locked
    fi
fi
