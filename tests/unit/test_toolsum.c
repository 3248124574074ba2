/*
** test_toolsum.c — other tools' checksums (tools/toolsum.c) against values
** from independent implementations (Python's hashlib and zlib, Flyway's
** line rule applied by hand): SHA-384 across the padding boundaries, and
** Flyway's CRC-32 of lines with LF, CR LF, CR, a BOM and no final newline.
** Prints TAP.
*/
#include "tap.h"
#include "toolsum.h"

#include <string.h>

static struct tap T;

static void check(enum scan_layout layout, const char *data, size_t len, const char *want, const char *what)
{
    char got[TOOLSUM_MAX];
    int rc = toolsum(layout, data, len, got);

    if (!tap_ok(&T, rc == 0 && strcmp(got, want) == 0, "%s", what))
        tap_diag("got %s, want %s", got, want);
}

int main(void)
{
    static char a[1280];
    char out[TOOLSUM_MAX];
    size_t i;

    for (i = 0; i < sizeof a; i++)
        a[i] = (char)(i % 256);
    check(LAYOUT_SQLX, "", 0, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
          "sqlx: SHA-384 of nothing");
    check(LAYOUT_SQLX, "abc", 3, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
          "sqlx: SHA-384 of abc (FIPS 180-4's example)");
    memset(a, 'a', 128);
    check(LAYOUT_SQLX, a, 111, "3c37955051cb5c3026f94d551d5b5e2ac38d572ae4e07172085fed81f8466b8f90dc23a8ffcdea0b8d8e58e8fdacc80a",
          "sqlx: 111 bytes, the padding fits the block");
    check(LAYOUT_SQLX, a, 112, "187d4e07cb306103c69967bf544d0dfbe9042577599c73c330abc0cb64c61236d5ed565ee19119d8c31779a38f791fcd",
          "sqlx: 112 bytes, the length spills into a second block");
    check(LAYOUT_SQLX, a, 127, "9bd06b1763c2cf7aef40e795dc65bc96d59c41b537f3ad72ebdefd485476b5717c1aeb37c327fe9c1831b12b9efd08ae",
          "sqlx: 127 bytes");
    check(LAYOUT_SQLX, a, 128, "edb12730a366098b3b2beac75a3bef1b0969b15c48e2163c23d96994f8d1bef760c7e27f3c464d3829f56c0d53808b0b",
          "sqlx: one whole block");
    for (i = 0; i < sizeof a; i++)
        a[i] = (char)(i % 256);
    check(LAYOUT_SQLX, a, sizeof a, "f5943b1fe9e4b5bd3b45c83ef1e748f5e0f095f405a67d11a37016e5e908a4c5033bf084186d1e352db6fdda24dda58c",
          "sqlx: ten blocks of every byte value");
    check(LAYOUT_DRIZZLE, "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "Drizzle: SHA-256 of the file");
    check(LAYOUT_FLYWAY, "CREATE TABLE t (x);\n", 20, "1092256988", "Flyway: CRC-32 of one line");
    check(LAYOUT_FLYWAY, "\xef\xbb\xbf" "a\r\nb\rc\n\nd", 12, "-310194927",
          "Flyway: BOM left out, CR LF, CR and LF all end a line, negative as a signed int");
    check(LAYOUT_FLYWAY, "SELECT 1;", 9, "78787420", "Flyway: no final newline");
    check(LAYOUT_FLYWAY, "", 0, "0", "Flyway: an empty file");
    tap_ok(&T, toolsum(LAYOUT_DBMATE, "x", 1, out) == -1 && out[0] == '\0', "dbmate keeps no checksum: none");
    return tap_done(&T);
}
