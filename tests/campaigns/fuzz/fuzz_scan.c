/*
** fuzz_scan.c — a libFuzzer target for the two re2c lexers of scan.re.
**
** An input is a file name, a NUL byte and a migration text; an input
** without a NUL byte is used whole as both.
**   - the file name (cut after NAME_LIMIT bytes) goes to scan_file_name(),
**     whose result is compared with a plain reference classifier written
**     from the naming rules of docs/folder.md;
**   - the text goes to scan_sql() (and may hold more NUL bytes), checked against
**     what the contract promises (NUL bytes are reported, offsets stay in
**     the text) and against two rewrites that must not change the verdict:
**     a directive line put in front, and every LF turned into CR LF.
** Every broken promise is an abort(), which libFuzzer reports as a crash.
** The same function runs without libFuzzer in replay.c.
*/
#include "scan.h"
#include "sqlmig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* File names longer than this are cut: the file system allows 255 bytes. */
#define NAME_LIMIT 300

/* Say which promise broke, then crash so that libFuzzer keeps the input. */
static void fail(const char *what)
{
    fprintf(stderr, "fuzz_scan: %s\n", what);
    abort();
}

static void fail_name(const char *what, const char *name)
{
    fprintf(stderr, "fuzz_scan: %s: '%s'\n", what, name);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "fuzz_scan: out of memory\n");
        abort();
    }
    return p;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Does s[0..n) end with suffix, in ASCII any case when icase is set? */
static int ends_with(const char *s, size_t n, const char *suffix, int icase)
{
    size_t k = strlen(suffix), i;

    if (n < k)
        return 0;
    for (i = 0; i < k; i++) {
        int a = (unsigned char)s[n - k + i], b = (unsigned char)suffix[i];
        if (icase ? lower(a) != lower(b) : a != b)
            return 0;
    }
    return 1;
}

/*
** The naming rules of docs/folder.md, as straight-line code:
**   a dot file or a name ending in '~' is ignored; so is anything that does
**   not end in ".sql" in some case, except "<digits>_sql" (a migration whose
**   name was forgotten); otherwise it must be <digits>_<name>.sql,
**   <digits>_<name>.up.sql or <digits>_<name>.down.sql with the suffix in
**   lower case, a non-empty name that does not start with '.', and a version
**   from 1 to INT64_MAX; or the version alone: <digits>.sql, <digits>.up.sql,
**   <digits>.down.sql. Anything else that ends in ".sql" is malformed,
**   and so is a name where ".sql" is followed only by blanks and dots.
*/
static enum scan_name_kind reference_kind(const char *name, int64_t *version,
                                          size_t *name_start, size_t *name_end)
{
    size_t n = strlen(name), digits = strspn(name, "0123456789"), suffix, i;
    const char *rest;
    size_t rest_len;
    enum scan_name_kind kind;
    uint64_t v = 0;

    if (name[0] == '.' || (n > 0 && name[n - 1] == '~'))
        return SCAN_IGNORED;
    if (digits > 0 && name[digits] == '_' && n - digits - 1 == 3 &&
        ends_with(name, n, "sql", 1))
        return SCAN_MALFORMED;
    if (!ends_with(name, n, ".sql", 1)) {
        size_t t = n;
        while (t > 0 && strchr(" \t\r\n.", name[t - 1]))
            t--;
        return t < n && ends_with(name, t, ".sql", 1) ? SCAN_MALFORMED : SCAN_IGNORED;
    }
    if (digits > 0 && (strcmp(name + digits, ".sql") == 0 || strcmp(name + digits, ".up.sql") == 0 ||
                       strcmp(name + digits, ".down.sql") == 0)) {
        kind = name[digits + 1] == 's' ? SCAN_PLAIN : name[digits + 1] == 'u' ? SCAN_UP : SCAN_DOWN;
        for (i = 0; i < digits; i++) {
            unsigned d = (unsigned)(name[i] - '0');
            if (v > ((uint64_t)INT64_MAX - d) / 10)
                return SCAN_MALFORMED;
            v = v * 10 + d;
        }
        if (v == 0)
            return SCAN_MALFORMED;
        *version = (int64_t)v;
        *name_start = *name_end = digits;
        return kind;
    }
    if (digits == 0 || name[digits] != '_')
        return SCAN_MALFORMED;
    rest = name + digits + 1;
    rest_len = n - digits - 1;
    if (ends_with(rest, rest_len, ".up.sql", 0)) {
        kind = SCAN_UP;
        suffix = 7;
    } else if (ends_with(rest, rest_len, ".down.sql", 0)) {
        kind = SCAN_DOWN;
        suffix = 9;
    } else if (ends_with(rest, rest_len, ".up.sql", 1) || ends_with(rest, rest_len, ".down.sql", 1)) {
        return SCAN_MALFORMED;
    } else if (ends_with(rest, rest_len, ".sql", 0)) {
        kind = SCAN_PLAIN;
        suffix = 4;
    } else {
        return SCAN_MALFORMED;
    }
    if (rest_len == suffix || rest[0] == '.')
        return SCAN_MALFORMED;
    for (i = 0; i < digits; i++) {
        unsigned d = (unsigned)(name[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return SCAN_MALFORMED;
        v = v * 10 + d;
    }
    if (v == 0)
        return SCAN_MALFORMED;
    *version = (int64_t)v;
    *name_start = digits + 1;
    *name_end = n - suffix;
    return kind;
}

static void check_name(const char *name)
{
    struct scan_name sn;
    enum scan_name_kind want;
    int64_t version = 0;
    size_t start = 0, end = 0;

    scan_file_name(name, &sn);
    want = reference_kind(name, &version, &start, &end);
    if (sn.kind != want)
        fail_name("scan_file_name: the kind differs from the naming rules", name);
    if (sn.kind == SCAN_MALFORMED) {
        if (!sn.problem || !sn.problem[0])
            fail_name("scan_file_name: a malformed name without a problem text", name);
        return;
    }
    if (sn.problem)
        fail_name("scan_file_name: a problem text for a name that is not malformed", name);
    if (sn.kind == SCAN_IGNORED)
        return;
    if (sn.version != version || sn.version <= 0)
        fail_name("scan_file_name: wrong version", name);
    if (sn.name_start != start || sn.name_end != end || sn.name_start > sn.name_end ||
        (sn.name_start == sn.name_end && name[sn.name_start] != '.') || sn.name_end > strlen(name))
        fail_name("scan_file_name: wrong name range", name);
}

/* Offsets of a NUL byte, or len when there is none. */
static size_t first_nul(const char *text, size_t len)
{
    const char *z = memchr(text, '\0', len);
    return z ? (size_t)(z - text) : len;
}

/* Scan a heap copy of exactly len + 1 bytes, so that ASan sees any overread. */
static void scan_copy(const char *bytes, size_t len, struct scan_sql *out)
{
    char *text = xmalloc(len + 1);

    memcpy(text, bytes, len);
    text[len] = '\0';
    scan_sql(text, len, out);
    free(text);
}

static void check_sql(const char *bytes, size_t len)
{
    static const char directive[] = "-- sqlmig:no-transaction\r\n";
    const size_t dlen = sizeof directive - 1;
    struct scan_sql ss, pre, crlf;
    size_t nul = first_nul(bytes, len), i, n, lfs;
    char *buf;

    scan_copy(bytes, len, &ss);
    if (ss.flags & ~(SQLMIG_NO_TRANSACTION | SQLMIG_ATTACH))
        fail("scan_sql: unknown flag bits");
    if (ss.error_offset > len)
        fail("scan_sql: error_offset past the text");
    if (!ss.problem && ss.error_offset != 0)
        fail("scan_sql: an error_offset without a problem");
    if (nul < len && (!ss.problem || ss.error_offset > nul))
        fail("scan_sql: a NUL byte not reported at or after an earlier problem");
    if (ss.problem && strstr(ss.problem, "NUL") && (ss.error_offset >= len || bytes[ss.error_offset]))
        fail("scan_sql: the NUL problem does not point at a NUL byte");
    if (ss.flags && !memchr(bytes, ':', len))
        fail("scan_sql: a flag without any directive");

    /* A directive line in front: the flag is set and nothing else changes. */
    buf = xmalloc(dlen + len);
    memcpy(buf, directive, dlen);
    memcpy(buf + dlen, bytes, len);
    scan_copy(buf, dlen + len, &pre);
    free(buf);
    if (pre.flags != (ss.flags | SQLMIG_NO_TRANSACTION) || pre.problem != ss.problem ||
        (ss.problem && pre.error_offset != ss.error_offset + dlen))
        fail("scan_sql: a directive line in front changed the verdict on the rest");

    /* CR LF line endings (a Windows checkout): the same flags and problem. */
    for (lfs = 0, i = 0; i < len; i++)
        lfs += bytes[i] == '\n';
    buf = xmalloc(len + lfs);
    for (n = 0, i = 0; i < len; i++) {
        if (bytes[i] == '\n')
            buf[n++] = '\r';
        buf[n++] = bytes[i];
    }
    scan_copy(buf, n, &crlf);
    free(buf);
    if (crlf.flags != ss.flags || crlf.problem != ss.problem)
        fail("scan_sql: CR LF line endings changed the verdict");
    if (ss.problem) {
        for (lfs = 0, i = 0; i < ss.error_offset; i++)
            lfs += bytes[i] == '\n';
        if (crlf.error_offset != ss.error_offset + lfs)
            fail("scan_sql: CR LF line endings moved the problem");
    }
}

/*
** Every other layout: names and texts scan without a crash, every offset
** stays in the text, sections come in order (the up section first) and
** cover the text after their markers; the journal and TOML readers too.
*/
static void check_layouts(const char *name, const char *bytes, size_t len)
{
    char *text = xmalloc(len + 1);
    struct scan_name sn;
    struct scan_sql ss;
    struct scan_journal j;
    const char *problem = NULL;
    size_t at = 0, n = strlen(name);
    int l, k;

    memcpy(text, bytes, len);
    text[len] = '\0';
    for (l = 0; l < LAYOUT_COUNT; l++) {
        scan_layout_name((enum scan_layout)l, name, &sn);
        if ((sn.kind == SCAN_MALFORMED) != (sn.problem != NULL))
            fail_name("scan_layout_name: a problem text iff malformed", name);
        if (sn.kind != SCAN_MALFORMED && sn.kind != SCAN_IGNORED &&
            (sn.name_start > sn.name_end || sn.name_end > n || sn.version_end > n ||
             sn.version_start > sn.version_end || (l != LAYOUT_FLYWAY && sn.version <= 0)))
            fail_name("scan_layout_name: a range outside the name, or no version", name);
        scan_sql_layout((enum scan_layout)l, text, len, &ss);
        if (ss.error_offset > len || (!ss.problem && ss.error_offset))
            fail("scan_sql_layout: error_offset past the text, or without a problem");
        if (ss.section_count < 0 || ss.section_count > SCAN_SECTION_MAX ||
            (ss.section_count && l != LAYOUT_GOOSE && l != LAYOUT_DBMATE))
            fail("scan_sql_layout: sections out of bounds, or in a layout without them");
        for (k = 0; k < ss.section_count; k++) {
            const struct scan_section *sec = &ss.sections[k];
            if (sec->marker >= sec->body || sec->body > sec->end + 1 || sec->end > len ||
                (k > 0 && ss.sections[k - 1].end != sec->marker) || (k == 0 && sec->kind != SECTION_UP) ||
                (k > 0 && sec->kind == ss.sections[k - 1].kind))
                fail("scan_sql_layout: sections out of order or outside the text");
        }
    }
    if (scan_journal(text, len, &j, &at, &problem) == 0) {
        for (at = 0; at < j.count; at++)
            if (!j.entries[at].tag || !j.entries[at].tag[0] || j.entries[at].when < 0)
                fail("scan_journal: an entry without its tag or time");
        scan_journal_free(&j);
    } else if (!problem || at > len) {
        fail("scan_journal: a refusal without a problem, or past the text");
    }
    l = scan_toml_bool(text, len, "run_in_transaction");
    if (l < -1 || l > 1)
        fail("scan_toml_bool: a value other than -1, 0 and 1");
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bytes = (const char *)data;
    size_t n = first_nul(bytes, size), name_len = n > NAME_LIMIT ? NAME_LIMIT : n;
    char *name = xmalloc(name_len + 1);

    memcpy(name, bytes, name_len);
    name[name_len] = '\0';
    check_name(name);

    if (n < size) {
        check_sql(bytes + n + 1, size - n - 1);
        check_layouts(name, bytes + n + 1, size - n - 1);
    } else {
        check_sql(bytes, size);
        check_layouts(name, bytes, size);
    }
    free(name);
    return 0;
}
