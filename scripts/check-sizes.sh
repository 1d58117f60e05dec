#!/bin/bash
# scripts/check-sizes.sh - no C file over 800 lines, no function over 120 lines
# without a reason written at its head (docs/architecture.md, "Sizes").
#
# A function may be longer when the comment just above it says why, with a
# line containing "Long:" (e.g. "Long: one table of every option, read top to
# bottom"). Files and functions being rewritten elsewhere are listed below as
# known exceptions; the list only shrinks.
# Prints one line per offence and exits 1 if there is any; 0 otherwise.
set -u
cd "$(dirname "$0")/.."
MAX_FILE=${MAX_FILE:-800}
MAX_FUNC=${MAX_FUNC:-120}

# Known exceptions, until their rewrites land: the scene opener (two functions
# of pipeline/io/cnp_raster.c over 120 lines), the tile engine (pipeline/core/),
# and option parsing (pipeline/cli/, cnp_monitor_cmd.c), which is moving into
# one option table.
EXCEPT_FILES='^(pipeline/io/cnp_raster\.c|pipeline/core/.*|pipeline/cli/.*|pipeline/monitor/cnp_monitor_cmd\.c)$'

bad=0
for f in $(find pipeline kernels -name '*.c' | sort); do
    [ -f "$f" ] || continue
    [[ "$f" =~ $EXCEPT_FILES ]] && continue
    n=$(wc -l <"$f")
    if [ "$n" -gt "$MAX_FILE" ]; then
        echo "$f: $n lines (more than $MAX_FILE)"
        bad=1
    fi
    # A function: a line "{" in column 0 after its signature, up to "}" in
    # column 0. Its head: the comment lines just above the signature.
    out=$(awk -v max="$MAX_FUNC" -v file="$f" '
        /^\{/ { start = NR; name = sig; why = reason; next }
        /^\}/ && start { len = NR - start - 1
                         if (len > max && !why)
                             printf "%s:%d: %s: %d lines (more than %d, no \"Long:\" reason above it)\n", file, start, name, len, max
                         start = 0; next }
        start { next }
        /^(\/\*| \*)/ { if ($0 ~ /Long:/) pending = 1; next }
        /^[A-Za-z_].*\(/ { sig = $0; sub(/\(.*/, "", sig); n = split(sig, w, /[ *]+/); sig = w[n]
                           reason = pending; pending = 0; next }
        /^$/ { pending = 0 }
    ' "$f")
    if [ -n "$out" ]; then
        echo "$out"
        bad=1
    fi
done
exit $bad
