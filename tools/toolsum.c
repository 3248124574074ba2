/*
** toolsum.c — other tools' checksums of a migration file (toolsum.h):
** SHA-384 (FIPS 180-4, the SHA-512 function with its own initial value,
** cut to 48 bytes), CRC-32 (ISO-HDLC, as java.util.zip.CRC32), and the
** SHA-256 of sha256.c.
*/
#include "toolsum.h"

#include "sha256.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint64_t K512[80] = {
    UINT64_C(0x428a2f98d728ae22), UINT64_C(0x7137449123ef65cd),
    UINT64_C(0xb5c0fbcfec4d3b2f), UINT64_C(0xe9b5dba58189dbbc),
    UINT64_C(0x3956c25bf348b538), UINT64_C(0x59f111f1b605d019),
    UINT64_C(0x923f82a4af194f9b), UINT64_C(0xab1c5ed5da6d8118),
    UINT64_C(0xd807aa98a3030242), UINT64_C(0x12835b0145706fbe),
    UINT64_C(0x243185be4ee4b28c), UINT64_C(0x550c7dc3d5ffb4e2),
    UINT64_C(0x72be5d74f27b896f), UINT64_C(0x80deb1fe3b1696b1),
    UINT64_C(0x9bdc06a725c71235), UINT64_C(0xc19bf174cf692694),
    UINT64_C(0xe49b69c19ef14ad2), UINT64_C(0xefbe4786384f25e3),
    UINT64_C(0x0fc19dc68b8cd5b5), UINT64_C(0x240ca1cc77ac9c65),
    UINT64_C(0x2de92c6f592b0275), UINT64_C(0x4a7484aa6ea6e483),
    UINT64_C(0x5cb0a9dcbd41fbd4), UINT64_C(0x76f988da831153b5),
    UINT64_C(0x983e5152ee66dfab), UINT64_C(0xa831c66d2db43210),
    UINT64_C(0xb00327c898fb213f), UINT64_C(0xbf597fc7beef0ee4),
    UINT64_C(0xc6e00bf33da88fc2), UINT64_C(0xd5a79147930aa725),
    UINT64_C(0x06ca6351e003826f), UINT64_C(0x142929670a0e6e70),
    UINT64_C(0x27b70a8546d22ffc), UINT64_C(0x2e1b21385c26c926),
    UINT64_C(0x4d2c6dfc5ac42aed), UINT64_C(0x53380d139d95b3df),
    UINT64_C(0x650a73548baf63de), UINT64_C(0x766a0abb3c77b2a8),
    UINT64_C(0x81c2c92e47edaee6), UINT64_C(0x92722c851482353b),
    UINT64_C(0xa2bfe8a14cf10364), UINT64_C(0xa81a664bbc423001),
    UINT64_C(0xc24b8b70d0f89791), UINT64_C(0xc76c51a30654be30),
    UINT64_C(0xd192e819d6ef5218), UINT64_C(0xd69906245565a910),
    UINT64_C(0xf40e35855771202a), UINT64_C(0x106aa07032bbd1b8),
    UINT64_C(0x19a4c116b8d2d0c8), UINT64_C(0x1e376c085141ab53),
    UINT64_C(0x2748774cdf8eeb99), UINT64_C(0x34b0bcb5e19b48a8),
    UINT64_C(0x391c0cb3c5c95a63), UINT64_C(0x4ed8aa4ae3418acb),
    UINT64_C(0x5b9cca4f7763e373), UINT64_C(0x682e6ff3d6b2b8a3),
    UINT64_C(0x748f82ee5defb2fc), UINT64_C(0x78a5636f43172f60),
    UINT64_C(0x84c87814a1f0ab72), UINT64_C(0x8cc702081a6439ec),
    UINT64_C(0x90befffa23631e28), UINT64_C(0xa4506cebde82bde9),
    UINT64_C(0xbef9a3f7b2c67915), UINT64_C(0xc67178f2e372532b),
    UINT64_C(0xca273eceea26619c), UINT64_C(0xd186b8c721c0c207),
    UINT64_C(0xeada7dd6cde0eb1e), UINT64_C(0xf57d4f7fee6ed178),
    UINT64_C(0x06f067aa72176fba), UINT64_C(0x0a637dc5a2c898a6),
    UINT64_C(0x113f9804bef90dae), UINT64_C(0x1b710b35131c471b),
    UINT64_C(0x28db77f523047d84), UINT64_C(0x32caab7b40c72493),
    UINT64_C(0x3c9ebe0a15c9bebc), UINT64_C(0x431d67c49c100d4c),
    UINT64_C(0x4cc5d4becb3e42b6), UINT64_C(0x597f299cfc657e2a),
    UINT64_C(0x5fcb6fab3ad6faec), UINT64_C(0x6c44198c4a475817),
};

static uint64_t ror64(uint64_t x, unsigned n)
{
    return (x >> n) | (x << (64 - n));
}

/* One 128-byte block into the chaining value. */
static void sha512_block(uint64_t h[8], const unsigned char *p)
{
    uint64_t w[80], a, b, c, d, e, f, g, k, t1, t2;
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = 0;
        for (k = 0; k < 8; k++)
            w[i] = w[i] << 8 | p[i * 8 + (int)k];
    }
    for (i = 16; i < 80; i++)
        w[i] = (ror64(w[i - 2], 19) ^ ror64(w[i - 2], 61) ^ (w[i - 2] >> 6)) + w[i - 7]
               + (ror64(w[i - 15], 1) ^ ror64(w[i - 15], 8) ^ (w[i - 15] >> 7)) + w[i - 16];
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (i = 0; i < 80; i++) {
        t1 = k + (ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41)) + ((e & f) ^ (~e & g)) + K512[i] + w[i];
        t2 = (ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* SHA-384 of len bytes, as 96 lowercase hex digits. */
static void sha384_hex(const unsigned char *p, size_t len, char out[97])
{
    uint64_t h[8] = {
    UINT64_C(0xcbbb9d5dc1059ed8), UINT64_C(0x629a292a367cd507),
    UINT64_C(0x9159015a3070dd17), UINT64_C(0x152fecd8f70e5939),
    UINT64_C(0x67332667ffc00b31), UINT64_C(0x8eb44a8768581511),
    UINT64_C(0xdb0c2e0d64f98fa7), UINT64_C(0x47b5481dbefa4fa4),
    };
    unsigned char last[256];
    size_t rest = len % 128, n = rest < 112 ? 128 : 256, i;
    uint64_t bits = (uint64_t)len * 8;

    for (i = 0; i + 128 <= len; i += 128)
        sha512_block(h, p + i);
    memset(last, 0, sizeof last);
    if (rest)
        memcpy(last, p + i, rest);
    last[rest] = 0x80;
    /* The 128-bit length: its high half is 0 for any file that fits in memory. */
    for (i = 0; i < 8; i++)
        last[n - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (i = 0; i < n; i += 128)
        sha512_block(h, last + i);
    for (i = 0; i < 48; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned)(h[i / 8] >> (56 - 8 * (i % 8))) & 0xffu);
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    int k;

    while (n--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++)
            crc = crc >> 1 ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

/*
** Flyway's: the CRC-32 of the file's lines without their ends (as Java's
** readLine() gives them: an LF, a CR, or CR LF ends one), a UTF-8 BOM at
** the start left out; stored as a signed 32-bit integer.
*/
static int64_t flyway_crc(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    size_t i = len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0, start = i;

    for (; i < len; i++) {
        if (p[i] != '\n' && p[i] != '\r')
            continue;
        crc = crc32_update(crc, p + start, i - start);
        if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    crc = crc32_update(crc, p + start, len - start) ^ 0xFFFFFFFFu;
    return crc > 0x7FFFFFFFu ? (int64_t)crc - INT64_C(0x100000000) : (int64_t)crc;
}

int toolsum(enum scan_layout layout, const char *file, size_t len, char out[TOOLSUM_MAX])
{
    const unsigned char *p = (const unsigned char *)(file ? file : "");
    unsigned char d[32];
    struct sha256 c;
    int i;

    out[0] = '\0';
    switch (layout) {
    case LAYOUT_SQLX:
        sha384_hex(p, len, out);
        return 0;
    case LAYOUT_DRIZZLE:
        sha256_init(&c);
        sha256_update(&c, p, len);
        sha256_final(&c, d);
        for (i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", d[i]);
        return 0;
    case LAYOUT_FLYWAY:
        snprintf(out, TOOLSUM_MAX, "%" PRId64, flyway_crc(p, len));
        return 0;
    default:
        return -1;
    }
}
