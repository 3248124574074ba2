/*
** sha256.h — SHA-256 (FIPS 180-4) for the checksums `sqlmig compile` embeds,
** with no dependency: the tool must build on any host that has a C compiler
** and SQLite, and the digest must be the same on every one of them.
**
** Usage: sha256_init(), any number of sha256_update() calls with the bytes in
** order (the split between calls never changes the digest), sha256_final().
*/
#ifndef SQLMIG_SHA256_H
#define SQLMIG_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* The running state of one digest. Treat the fields as private. */
struct sha256 {
    uint32_t h[8];             /* the chaining value */
    uint64_t total;            /* bytes hashed so far (the length in the padding) */
    unsigned char block[64];   /* a partial block waiting for more bytes */
    size_t used;               /* bytes in `block`, 0..63 */
};

/* Start a new digest. */
void sha256_init(struct sha256 *c);

/* Hash `len` more bytes. `data` may be NULL when `len` is 0. */
void sha256_update(struct sha256 *c, const void *data, size_t len);

/*
** Finish: write the 32-byte digest. The state is then spent; call
** sha256_init() again to reuse it.
*/
void sha256_final(struct sha256 *c, unsigned char digest[32]);

/*
** The checksum of a migration: the SHA-256 of `len` bytes of `sql` in which
** every CR LF pair is read as a single LF (a CR that is not followed by an LF
** stays), as 64 lowercase hex digits and a NUL in `hex`. A checkout that
** converted the line endings therefore does not count as an edit. The input
** is not copied. `sql` may be NULL when `len` is 0.
*/
void sqlmig_checksum(const char *sql, size_t len, char hex[65]);

#endif
