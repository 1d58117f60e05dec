#!/bin/sh
# Installs the optional Debian 12 packages some end-to-end tests use, when missing:
# chromium (headless rendering of report.html), poppler-utils (pdfinfo,
# pdftotext, pdftoppm: report.pdf), openssl (the command that checks a
# signed SHA256SUMS, as the README tells users to) and dpkg-dev, debhelper and
# fakeroot (building the .deb: tests/e2e/test_deb.sh). Safe to run again.
# Exits non-zero when a package cannot be installed; the tests then SKIP.
exec "$(dirname "$0")/apt-install.sh" "test" chromium poppler-utils openssl \
    dpkg-dev debhelper fakeroot
