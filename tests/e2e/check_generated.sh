#!/usr/bin/env bash
# The committed generated/ files must be what this build produces, byte for
# byte: run `ninja regenerate` after changing tools/scan.re or migrations/.
# The scanner is compared only when the installed re2c is the version that
# wrote generated/scan.c (another version writes other, equally valid code).
# Usage: check_generated.sh GENERATED_DIR RE2C_VERSION PINNED SCAN_C FILE...
set -u
gen=$1 re2c_version=$2 pinned=$3 scan_c=$4
shift 4
. "$(dirname "$0")/../helpers/tap.sh"
compare() {
    local name
    name=$(basename "$1")
    cmp -s "$1" "$gen/$name"
    ok $? "generated/$name is current (else: ninja -C build regenerate)"
    cmp -s "$1" "$gen/$name" || diff -u "$gen/$name" "$1" | head -n 20 | sed 's/^/# /'
}
if [ "$re2c_version" = "$pinned" ]; then
    compare "$scan_c"
else
    ok 0 "generated/scan.c # SKIP re2c $re2c_version is not the pinned $pinned"
fi
for f in "$@"; do
    compare "$f"
done
finish
