#!/bin/sh
# scripts/make-deb.sh OUTDIR - build the Debian package of this tree.
#
# Exports the working tree (tracked files and new ones git does not ignore, as
# they are now; no build outputs) to OUTDIR/canopy-<version>/ and runs
# `dpkg-buildpackage -us -uc -b` there, so the .deb (and the build's other
# files) land in OUTDIR, never beside the checkout. Needs no network: the
# build dependencies must be installed (debian/control; `dpkg-checkbuilddeps`
# says which are missing). Prints the path of the .deb.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=$(cat "$root/VERSION")
src="$out/canopy-$version"
rm -rf "$src"
mkdir -p "$src"
cd "$root"
if git rev-parse --show-toplevel >/dev/null 2>&1; then
    # (a file deleted but not yet committed is left out)
    git ls-files --cached --others --exclude-standard |
        while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
        tar -cf - --no-recursion --verbatim-files-from -T - | tar -xf - -C "$src"
else
    tar -cf - --exclude=./build --exclude=./build-asan --exclude=./bin . | tar -xf - -C "$src"
fi
for cmd in dpkg-buildpackage dh; do
    command -v "$cmd" >/dev/null 2>&1 ||
        { echo "make-deb: $cmd is missing (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
done
cd "$src"
dpkg-checkbuilddeps
dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 ||
    { echo "make-deb: dpkg-buildpackage failed; the end of $out/build.log:" >&2
      tail -30 "$out/build.log" >&2; exit 1; }
ls "$out"/canopy_"$version"_*.deb
