#!/usr/bin/env bash
# A multi-page fax test chart: chart.sh OUT.tif PAGES [ROWS]
#
# Each page is a fine-resolution A4-wide fax page (1728 dots, 204x196 dpi: ITU-T T.4 §2.2)
# of ROWS scan lines (default 600), made with netpbm: a frame, a line of large text naming the
# page, a gray dither block and a black bar as long as the page number says, so every page codes
# differently and every part of the coder (runs, vertical modes, long lines) is exercised.
# The pages are joined into one G4 TIFF with libtiff's tiffcp, as a fax machine's scan would be.
# Used by tests/it/fax_calls.rs and bench/fax.py.
set -euo pipefail
out=$1
pages=$2
rows=${3:-600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
parts=()
for ((p = 1; p <= pages; p++)); do
    pbmtext -builtin fixed "zentrale fax chart page $p of $pages" \
        | pamscale -xscale 3 -yscale 4 2>/dev/null | pamditherbw -threshold 2>/dev/null \
        > "$work/text$p.pbm"
    pbmmake -gray 160 24 > "$work/gray$p.pbm"
    pbmmake -black $((40 * p)) 20 > "$work/bar$p.pbm"
    pnmcat -tb -jleft "$work/text$p.pbm" "$work/gray$p.pbm" "$work/bar$p.pbm" \
        | pnmpad -white -left 80 -top 60 -width 1720 -height $((rows - 8)) \
        | pnmpad -black -left 4 -right 4 -top 4 -bottom 4 > "$work/page$p.pbm"
    pnmtotiff -g4 -xresolution 204 -yresolution 196 "$work/page$p.pbm" > "$work/page$p.tif"
    parts+=("$work/page$p.tif")
done
tiffcp -c g4 "${parts[@]}" "$out"
