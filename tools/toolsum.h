/*
** toolsum.h — the checksum another tool stores in its ledger for a
** migration file, computed at build time so that sqlmig_adopt() can check a
** database migrated by that tool against the very files sqlmig embeds:
** sqlx's SHA-384 of the file, Drizzle's SHA-256 of the file, Flyway's CRC-32
** of the file's lines. docs/adopting.md describes each ledger.
*/
#ifndef SQLMIG_TOOLSUM_H
#define SQLMIG_TOOLSUM_H

#include "scan.h"

#include <stddef.h>

/* The longest text toolsum() writes, NUL included. */
#define TOOLSUM_MAX 100

/*
** The checksum that the tool of `layout` stores for a migration file of
** `len` bytes, as the text sqlmig_adopt() compares with the tool's column:
** sqlx, 96 lowercase hex digits; Drizzle, 64; Flyway, a signed decimal
** integer. 0 with the text in `out`; -1 (and `out` empty) for a layout
** whose ledger keeps no checksum.
*/
int toolsum(enum scan_layout layout, const char *file, size_t len, char out[TOOLSUM_MAX]);

#endif
