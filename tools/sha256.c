/*
** sha256.c — SHA-256 as specified in FIPS 180-4, and the migration checksum
** built on it (see sha256.h).
**
** Written for portability rather than speed: words are assembled from bytes
** with shifts, so the code makes no assumption about the host's byte order or
** alignment, and every 32-bit operation is done on uint32_t, whose arithmetic
** wraps modulo 2^32 as the standard requires.
*/
#include <string.h>

#include "sha256.h"

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the
** cube roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

/* Rotate right; n is always 1..31 here, so neither shift is by 32. */
#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* The six logical functions of FIPS 180-4 section 4.1.2. */
#define CH(x, y, z)  (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x)     (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)     (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)     (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x)     (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

/* Process one 64-byte block (FIPS 180-4 section 6.2.2). */
static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, hh, t1, t2;
    int i;

    for (i = 0; i < 16; i++) {
        /* Big-endian words, built byte by byte: no byte-order assumption. */
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16)
             | ((uint32_t)p[4 * i + 2] << 8) | (uint32_t)p[4 * i + 3];
    }
    for (i = 16; i < 64; i++)
        w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) + w[i - 16];

    a = h[0]; b = h[1]; c = h[2]; d = h[3];
    e = h[4]; f = h[5]; g = h[6]; hh = h[7];
    for (i = 0; i < 64; i++) {
        t1 = hh + BSIG1(e) + CH(e, f, g) + K[i] + w[i];
        t2 = BSIG0(a) + MAJ(a, b, c);
        hh = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void sha256_init(struct sha256 *c)
{
    /* FIPS 180-4 section 5.3.3: the initial hash value. */
    c->h[0] = 0x6a09e667; c->h[1] = 0xbb67ae85;
    c->h[2] = 0x3c6ef372; c->h[3] = 0xa54ff53a;
    c->h[4] = 0x510e527f; c->h[5] = 0x9b05688c;
    c->h[6] = 0x1f83d9ab; c->h[7] = 0x5be0cd19;
    c->total = 0;
    c->used = 0;
    memset(c->block, 0, sizeof c->block);
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t take;

    if (len == 0)
        return; /* also keeps memcpy() away from a NULL pointer */
    c->total += (uint64_t)len;

    /* Top up a partial block first. */
    if (c->used > 0) {
        take = 64 - c->used;
        if (take > len)
            take = len;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        len -= take;
        if (c->used < 64)
            return;
        sha256_block(c->h, c->block);
        c->used = 0;
    }
    /* Whole blocks straight from the caller's memory. */
    while (len >= 64) {
        sha256_block(c->h, p);
        p += 64;
        len -= 64;
    }
    /* Keep the tail for later. */
    if (len > 0) {
        memcpy(c->block, p, len);
        c->used = len;
    }
}

void sha256_final(struct sha256 *c, unsigned char digest[32])
{
    uint64_t bits = c->total * 8; /* the length modulo 2^64, as specified */
    int i;

    /* Padding (section 5.1.1): a 1 bit, zeros up to 56 mod 64, the length. */
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, 64 - c->used);
        sha256_block(c->h, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    for (i = 0; i < 8; i++)
        c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_block(c->h, c->block);

    for (i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(c->h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)c->h[i];
    }
    /* Wipe the state, so that a spent state never quietly continues the old
    ** message. */
    memset(c, 0, sizeof *c);
}

void sqlmig_checksum(const char *sql, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    struct sha256 c;
    unsigned char digest[32];
    size_t start = 0, i;

    sha256_init(&c);
    /*
    ** Hash the spans between the CRs that are dropped. The span after a
    ** dropped CR starts with its LF, so a CR LF pair becomes that LF. The
    ** whole input is in memory, so "is the next byte an LF" is always
    ** answerable: a CR that is the last byte is kept, never held back.
    */
    for (i = 0; i + 1 < len; i++) {
        if (sql[i] == '\r' && sql[i + 1] == '\n') {
            sha256_update(&c, sql + start, i - start);
            start = i + 1;
        }
    }
    if (len > start)
        sha256_update(&c, sql + start, len - start);
    sha256_final(&c, digest);

    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
}
