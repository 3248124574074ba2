/*
** test_sha256.c — SHA-256 against the FIPS 180-4 / NIST example vectors, the
** padding boundaries, independence from how the input is split between
** sha256_update() calls, and sqlmig_checksum()'s CRLF rule. Prints TAP.
*/
#include <string.h>

#include "sha256.h"
#include "tap.h"

/* Lowercase hex of a digest, for comparing with the published vectors. */
static void to_hex(const unsigned char d[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    int i;

    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

/* The digest of one buffer hashed in one call, as hex. */
static void hash_hex(const void *data, size_t len, char hex[65])
{
    struct sha256 c;
    unsigned char d[32];

    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, d);
    to_hex(d, hex);
}

static void check_vector(struct tap *t, const char *what, const char *msg, size_t len,
                         const char *want)
{
    char hex[65];

    hash_hex(msg, len, hex);
    if (!tap_ok(t, strcmp(hex, want) == 0, "%s", what))
        tap_diag("got %s, want %s", hex, want);
}

/* One million 'a' fed in chunks of uneven sizes that cross every block edge. */
static void check_million(struct tap *t)
{
    static const size_t sizes[] = {1, 63, 64, 65, 127, 0, 3, 1000, 55, 56, 4096, 7};
    static char a[4096];
    struct sha256 c;
    unsigned char d[32];
    char hex[65];
    size_t left = 1000000, n, k = 0;

    memset(a, 'a', sizeof a);
    sha256_init(&c);
    while (left > 0) {
        n = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
        if (n > left)
            n = left;
        sha256_update(&c, a, n);
        left -= n;
    }
    sha256_final(&c, d);
    to_hex(d, hex);
    if (!tap_ok(t, strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
                "one million 'a' in uneven chunks"))
        tap_diag("got %s", hex);
}

/* Every way to cut a 200-byte message in two, and in three, gives one digest. */
static void check_splits(struct tap *t)
{
    unsigned char msg[200], whole[32], d[32];
    struct sha256 c;
    size_t i, j;
    int bad2 = 0, bad3 = 0;

    for (i = 0; i < sizeof msg; i++)
        msg[i] = (unsigned char)(i * 7 + 3);
    sha256_init(&c);
    sha256_update(&c, msg, sizeof msg);
    sha256_final(&c, whole);

    for (i = 0; i <= sizeof msg; i++) {
        sha256_init(&c);
        sha256_update(&c, msg, i);
        sha256_update(&c, msg + i, sizeof msg - i);
        sha256_final(&c, d);
        if (memcmp(d, whole, 32) != 0)
            bad2++;
    }
    tap_ok(t, bad2 == 0, "all 201 two-way splits of a 200-byte message agree (%d differ)", bad2);

    for (i = 0; i <= sizeof msg; i++) {
        for (j = i; j <= sizeof msg; j++) {
            sha256_init(&c);
            sha256_update(&c, msg, i);
            sha256_update(&c, msg + i, j - i);
            sha256_update(&c, msg + j, sizeof msg - j);
            sha256_final(&c, d);
            if (memcmp(d, whole, 32) != 0)
                bad3++;
        }
    }
    tap_ok(t, bad3 == 0, "all three-way splits of a 200-byte message agree (%d differ)", bad3);

    /* And byte by byte. */
    sha256_init(&c);
    for (i = 0; i < sizeof msg; i++)
        sha256_update(&c, msg + i, 1);
    sha256_final(&c, d);
    tap_ok(t, memcmp(d, whole, 32) == 0, "200 one-byte updates agree");
}

/* Padding edges: 55 bytes fit one block, 56..63 need two, 64 starts a new one. */
static void check_lengths(struct tap *t)
{
    static const struct {
        size_t n;
        const char *want;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char a[120];
    size_t i;
    char what[64];

    memset(a, 'a', sizeof a);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        snprintf(what, sizeof what, "%zu times 'a' (padding edge)", v[i].n);
        check_vector(t, what, a, v[i].n, v[i].want);
    }
}

/* sqlmig_checksum(s) must equal the plain digest of `as`. */
static void check_sum(struct tap *t, const char *what, const char *s, size_t len,
                      const char *as, size_t as_len)
{
    char got[65], want[65];

    sqlmig_checksum(s, len, got);
    hash_hex(as, as_len, want);
    if (!tap_ok(t, strcmp(got, want) == 0, "checksum: %s", what))
        tap_diag("got %s, want %s", got, want);
}

static void check_checksum(struct tap *t)
{
    char a[65], b[65];
    size_t i;
    int hex_ok = 1;

    check_sum(t, "empty", NULL, 0, "", 0);
    check_sum(t, "no CR is plain SHA-256", "SELECT 1;\n", 10, "SELECT 1;\n", 10);
    check_sum(t, "CRLF reads as LF", "a;\r\nb;\r\n", 8, "a;\nb;\n", 6);
    check_sum(t, "a lone CRLF", "\r\n", 2, "\n", 1);
    check_sum(t, "a lone CR stays", "a\rb", 3, "a\rb", 3);
    check_sum(t, "a CR as the last byte stays", "abc\r", 4, "abc\r", 4);
    check_sum(t, "only a CR", "\r", 1, "\r", 1);
    check_sum(t, "CR CR LF keeps the first CR", "a\r\r\nb", 5, "a\r\nb", 4);
    check_sum(t, "LF CR stays", "a\n\rb", 4, "a\n\rb", 4);
    check_sum(t, "CRLF CRLF", "\r\n\r\n", 4, "\n\n", 2);

    sqlmig_checksum("x;\r\ny;\r\n", 8, a);
    sqlmig_checksum("x;\ny;\n", 6, b);
    tap_ok(t, strcmp(a, b) == 0, "CRLF and LF versions of a file have one checksum");
    sqlmig_checksum("x;\ry;\r", 6, a);
    tap_ok(t, strcmp(a, b) != 0, "a CR-only version does not");
    sqlmig_checksum("abc", 3, a);
    tap_ok(t, strcmp(a, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
           "checksum of \"abc\" is its SHA-256");
    for (i = 0; i < 64; i++) {
        if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')))
            hex_ok = 0;
    }
    tap_ok(t, hex_ok && a[64] == '\0', "checksum is 64 lowercase hex digits and a NUL");
}

int main(void)
{
    struct tap t = {0, 0};
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

    check_vector(&t, "FIPS 180-4: empty message", "", 0,
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_vector(&t, "FIPS 180-4: \"abc\"", "abc", 3,
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_vector(&t, "FIPS 180-4: 448-bit message", m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_vector(&t, "FIPS 180-4: 896-bit message", m896, strlen(m896),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    check_million(&t);
    check_lengths(&t);
    check_splits(&t);
    check_checksum(&t);
    return tap_done(&t);
}
