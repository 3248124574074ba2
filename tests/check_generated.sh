#!/usr/bin/env bash
# The committed generated/ files must be what this build produces, byte for
# byte: run `ninja regenerate` after changing tools/scan.re or migrations/.
# The scanner is compared only when the installed re2c is the version that
# wrote generated/scan.c (another version writes other, equally valid code).
# Usage: check_generated.sh GENERATED_DIR RE2C_VERSION PINNED SCAN_C FILE...
set -u
gen=$1 re2c_version=$2 pinned=$3 scan_c=$4
shift 4
n=0
failed=0
compare() {
    n=$((n + 1))
    if cmp -s "$1" "$gen/$(basename "$1")"; then
        echo "ok $n - generated/$(basename "$1") is current"
    else
        echo "not ok $n - generated/$(basename "$1") is stale: run 'ninja -C build regenerate'"
        diff -u "$gen/$(basename "$1")" "$1" | head -n 20 | sed 's/^/# /'
        failed=$((failed + 1))
    fi
}
if [ "$re2c_version" = "$pinned" ]; then
    compare "$scan_c"
else
    n=$((n + 1))
    echo "ok $n - generated/scan.c # SKIP re2c $re2c_version is not the pinned $pinned"
fi
for f in "$@"; do
    compare "$f"
done
echo "1..$n"
[ "$failed" -eq 0 ]
