/*
** emit.c — turn a struct tool_folder into the generated C file, its header,
** the depfile and the schema snapshot, and write outputs only when they
** change (see emit.h).
**
** The generated C must compile without a warning under -std=c11 -Wall
** -Wextra -Wpedantic -Werror (GCC and Clang), whatever bytes the migrations
** and their file names contain. Hence: every string from the folder is
** written through one escaper (emit_literal), file names reach comments only
** through another (comment_text), and no identifier is ever made from a file
** name: all of them come from --symbol.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open, fstat, getpid, rename, unlink */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "emit.h"
#include "sqlmig.h"

/* Put a message in err (when there is room) and return -1. */
static int emit_fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int emit_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The usual end of an emit_* function: only allocation can have failed. */
static int emit_done(const struct buf *out, char *err, size_t errlen)
{
    if (out->failed)
        return emit_fail(err, errlen, "out of memory");
    return 0;
}

/*
** Keywords of C11, C23 and C++20 (with the alternative operator spellings):
** the symbol is declared in a header that both languages read. Keywords that
** start with an underscore (_Bool, _Atomic, ...) are already excluded by the
** reserved-identifier rule. "main" is not a keyword, but GCC warns when
** it names an object, and the output must compile under -Werror.
*/
static const char *const emit_keywords[] = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor",
    "bool", "break", "case", "catch", "char", "char16_t", "char32_t",
    "char8_t", "class", "compl", "concept", "const", "const_cast",
    "consteval", "constexpr", "constinit", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double",
    "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false",
    "float", "for", "friend", "goto", "if", "inline", "int", "long", "main",
    "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr",
    "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "restrict", "return", "short", "signed",
    "sizeof", "static", "static_assert", "static_cast", "struct", "switch",
    "template", "this", "thread_local", "throw", "true", "try", "typedef",
    "typeid", "typename", "typeof", "typeof_unqual", "union", "unsigned",
    "using", "virtual", "void", "volatile", "wchar_t", "while", "xor",
    "xor_eq"
};

/* Prefixes of the headers the generated files include (case matters). */
static const char *const emit_taken_prefixes[] = {
    "sqlmig_", "SQLMIG_", "sqlite3_", "SQLITE_"
};

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* ASCII uppercase, whatever the locale. */
static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int emit_valid_symbol(const char *symbol)
{
    size_t i;

    /*
    ** No leading underscore at all: C reserves every identifier that starts
    ** with one at file scope, which is where the symbol is declared.
    */
    if (symbol == NULL || !is_alpha(symbol[0]))
        return 0;
    for (i = 1; symbol[i] != '\0'; i++) {
        if (!is_alpha(symbol[i]) && !is_digit(symbol[i]) && symbol[i] != '_')
            return 0;
        /* C++ reserves a double underscore anywhere. */
        if (symbol[i] == '_' && symbol[i - 1] == '_')
            return 0;
    }
    for (i = 0; i < sizeof emit_keywords / sizeof emit_keywords[0]; i++) {
        if (strcmp(symbol, emit_keywords[i]) == 0)
            return 0;
    }
    /*
    ** The generated files include sqlmig.h, sqlite3.h and stdint.h: a name
    ** from their name spaces could be declared there already, and POSIX
    ** reserves every name ending in _t.
    */
    for (i = 0; i < sizeof emit_taken_prefixes / sizeof emit_taken_prefixes[0]; i++) {
        if (strncmp(symbol, emit_taken_prefixes[i], strlen(emit_taken_prefixes[i])) == 0)
            return 0;
    }
    i = strlen(symbol);
    return !(i >= 2 && symbol[i - 2] == '_' && symbol[i - 1] == 't');
}

/*
** Write the C escape of byte c into o (at most 4 characters) and return its
** length. Octal escapes always have three digits, so a digit that follows
** is never read as part of them; \x is never used because it swallows every
** hex digit that follows. Every '?' is escaped, so that no trigraph (two
** question marks and one of =/'()!<>-, live under -std=c11) can form.
*/
static size_t escape_byte(unsigned char c, char *o)
{
    switch (c) {
    case '"':  o[0] = '\\'; o[1] = '"'; return 2;
    case '\\': o[0] = '\\'; o[1] = '\\'; return 2;
    case '?':  o[0] = '\\'; o[1] = '?'; return 2;
    case '\n': o[0] = '\\'; o[1] = 'n'; return 2;
    case '\t': o[0] = '\\'; o[1] = 't'; return 2;
    default:
        break;
    }
    if (c < 0x20 || c >= 0x7f) {
        o[0] = '\\';
        o[1] = (char)('0' + (c >> 6));
        o[2] = (char)('0' + ((c >> 3) & 7));
        o[3] = (char)('0' + (c & 7));
        return 4;
    }
    o[0] = (char)c;
    return 1;
}

/* Close the current literal piece and open the next one on a new line. */
static void next_piece(struct buf *out, const char *indent)
{
    buf_puts(out, "\"\n");
    buf_puts(out, indent);
    buf_putc(out, '"');
}

int emit_literal(struct buf *out, const void *data, size_t len, const char *indent)
{
    const unsigned char *p = data;
    size_t i, n, piece = 0; /* piece: characters between the current quotes */
    char esc[4];

    buf_putc(out, '"');
    for (i = 0; i < len; i++) {
        n = escape_byte(p[i], esc);
        if (piece + n > EMIT_PIECE_MAX) {
            next_piece(out, indent);
            piece = 0;
        }
        buf_append(out, esc, n);
        piece += n;
        /* One source line per line of SQL, so the output diffs like the file. */
        if (p[i] == '\n' && i + 1 < len) {
            next_piece(out, indent);
            piece = 0;
        }
    }
    buf_putc(out, '"');
    return out->failed ? -1 : 0;
}

/*
** Append a name for a comment: escaped like a literal, and with every '*'
** written as \052, so that the name can neither end the comment (a star then
** a slash) nor start a nested one (a slash then a star, which -Wcomment
** reports). No control byte, hence no line break, reaches the comment.
*/
static void comment_text(struct buf *out, const char *s, size_t len)
{
    size_t i, n;
    char esc[4];

    for (i = 0; i < len; i++) {
        if (s[i] == '*') {
            buf_puts(out, "\\052");
            continue;
        }
        n = escape_byte((unsigned char)s[i], esc);
        buf_append(out, esc, n);
    }
}

/*
** The last component of a path, without trailing slashes: "a/b/" gives "b".
** Sets *len; a path of slashes only gives "/".
*/
static const char *base_name(const char *path, size_t *len)
{
    size_t end = strlen(path), start;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (start == end && end > 0) { /* only slashes */
        *len = 1;
        return path;
    }
    *len = end - start;
    return path + start;
}

/* 1 if s is 64 lowercase hex digits. */
static int is_checksum(const char *s)
{
    int i;

    for (i = 0; i < 64; i++) {
        if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    }
    return s[64] == '\0';
}

/*
** Refuse a folder model that would produce a wrong or non-compiling file:
** everything the runtime relies on (sorted, unique, complete) is checked
** here, before anything is appended.
*/
static int check_folder(const struct tool_folder *f, char *err, size_t errlen)
{
    size_t i;
    const struct tool_migration *m;
    const struct tool_object *o, *prev;
    int cmp;

    if (f->dir == NULL)
        return emit_fail(err, errlen, "internal error: the folder has no name");
    if (f->count > 0 && f->items == NULL)
        return emit_fail(err, errlen, "internal error: migrations missing");
    if (f->object_count > 0 && f->objects == NULL)
        return emit_fail(err, errlen, "internal error: schema objects missing");
    for (i = 0; i < f->count; i++) {
        m = &f->items[i];
        if (m->name == NULL || m->file == NULL)
            return emit_fail(err, errlen, "internal error: migration %zu has no name", i);
        if ((m->up == NULL && m->up_len > 0) || (m->down == NULL && m->down_len > 0))
            return emit_fail(err, errlen, "internal error: %s has no SQL", m->file);
        if (!is_checksum(m->checksum))
            return emit_fail(err, errlen, "internal error: %s has no checksum", m->file);
        if (i > 0 && f->items[i - 1].version >= m->version)
            return emit_fail(err, errlen,
                             "internal error: migrations not in strictly increasing version order at %s",
                             m->file);
    }
    if (f->repeatable_count > 0 && f->repeatables == NULL)
        return emit_fail(err, errlen, "internal error: repeatable migrations missing");
    for (i = 0; i < f->repeatable_count; i++) {
        m = &f->repeatables[i];
        if (m->name == NULL || m->file == NULL || (m->up == NULL && m->up_len > 0) || m->down_file || m->down
            || m->version != 0 || !is_checksum(m->checksum))
            return emit_fail(err, errlen, "internal error: repeatable migration %zu is incomplete", i);
        if (i > 0 && strcmp(f->repeatables[i - 1].name, m->name) >= 0)
            return emit_fail(err, errlen, "internal error: repeatable migrations not in name order at %s", m->file);
    }
    if (f->change_count > 0 && f->changes == NULL)
        return emit_fail(err, errlen, "internal error: schema changes missing");
    for (i = 0; i < f->change_count; i++)
        if (!f->changes[i].type || !f->changes[i].name || f->changes[i].step < 1
            || f->changes[i].step > f->count + 1 || (i > 0 && f->changes[i - 1].step > f->changes[i].step))
            return emit_fail(err, errlen, "internal error: schema change %zu is incomplete or out of order", i);
    for (i = 0; i < f->object_count; i++) {
        o = &f->objects[i];
        if (o->type == NULL || o->name == NULL)
            return emit_fail(err, errlen, "internal error: schema object %zu has no name", i);
        if (i > 0) {
            prev = &f->objects[i - 1];
            cmp = strcmp(prev->type, o->type);
            if (cmp == 0)
                cmp = strcmp(prev->name, o->name);
            if (cmp >= 0)
                return emit_fail(err, errlen,
                                 "internal error: schema objects not sorted by (type, name) at %s %s",
                                 o->type, o->name);
        }
    }
    return 0;
}

/*
** 1 if the base name of the header can go between the quotes of an
** #include: there is no escape there, so only a plain set is allowed.
*/
static int valid_header_name(const char *name, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        if (!is_alpha(name[i]) && !is_digit(name[i]) && strchr("._+-", name[i]) == NULL)
            return 0;
    }
    return 1;
}

/* Append the migration's flags as C: symbolic where sqlmig.h has a name. */
static void flags_text(struct buf *out, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = { { SQLMIG_NO_TRANSACTION, "SQLMIG_NO_TRANSACTION" }, { SQLMIG_ATTACH, "SQLMIG_ATTACH" },
                  { SQLMIG_WRAPPED, "SQLMIG_WRAPPED" }, { SQLMIG_ONE_WAY, "SQLMIG_ONE_WAY" },
                  { SQLMIG_DOWN_WRAPPED, "SQLMIG_DOWN_WRAPPED" } };
    unsigned rest = flags;
    size_t i;

    if (flags == 0) {
        buf_puts(out, "0u");
        return;
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit) {
            rest &= ~names[i].bit;
            buf_puts(out, names[i].name);
            if (rest)
                buf_puts(out, " | ");
        }
    if (rest)
        buf_printf(out, "0x%xu", rest);
}

/* Append an int64_t as a C constant expression of type int64_t. */
static void version_text(struct buf *out, int64_t v)
{
    /* INT64_C(-9223372036854775808) would not be a valid constant. */
    if (v == INT64_MIN)
        buf_puts(out, "(-INT64_C(9223372036854775807) - 1)");
    else
        buf_printf(out, "INT64_C(%" PRId64 ")", v);
}

/* static const char <symbol>_<kind>_<i>[] = "…"; under a comment naming the file. */
static void sql_array(struct buf *out, const char *symbol, const char *kind, size_t i,
                      const char *file, const char *suffix, const char *sql, size_t len)
{
    buf_puts(out, "/* ");
    comment_text(out, file, strlen(file));
    buf_puts(out, suffix);
    buf_puts(out, " */\n");
    buf_printf(out, "static const char %s_%s_%zu[] =\n    ", symbol, kind, i);
    emit_literal(out, sql, len, "    ");
    buf_puts(out, ";\n\n");
}

/*
** The SQL of `count` migrations, then the array <symbol>_<array>[] that
** describes them (nothing when count is 0: an empty array is not C).
*/
static void migration_array(struct buf *out, const char *symbol, const char *array, const char *up,
                            const struct tool_migration *items, size_t count)
{
    const struct tool_migration *m;
    size_t i;

    for (i = 0; i < count; i++) {
        m = &items[i];
        sql_array(out, symbol, up, i, m->file, "", m->up, m->up_len);
        if (m->down != NULL || m->down_file != NULL) {
            if (m->down_file != NULL)
                sql_array(out, symbol, "down", i, m->down_file, "", m->down, m->down_len);
            else
                sql_array(out, symbol, "down", i, m->file, " (down)", m->down, m->down_len);
        }
    }
    if (count == 0)
        return;
    buf_printf(out, "static const struct sqlmig_migration %s_%s[] = {\n", symbol, array);
    for (i = 0; i < count; i++) {
        m = &items[i];
        buf_puts(out, "    {\n        .version = ");
        version_text(out, m->version);
        buf_puts(out, ",\n        .name = ");
        emit_literal(out, m->name, strlen(m->name), "            ");
        buf_puts(out, ",\n        .file = ");
        emit_literal(out, m->file, strlen(m->file), "            ");
        buf_printf(out, ",\n        .up_sql = %s_%s_%zu", symbol, up, i);
        buf_printf(out, ",\n        .up_len = sizeof %s_%s_%zu - 1", symbol, up, i);
        buf_printf(out, ",\n        .up_line = %uu", m->up_line);
        if (m->down != NULL || m->down_file != NULL) {
            buf_printf(out, ",\n        .down_sql = %s_down_%zu", symbol, i);
            buf_printf(out, ",\n        .down_len = sizeof %s_down_%zu - 1", symbol, i);
        } else {
            buf_puts(out, ",\n        .down_sql = NULL,\n        .down_len = 0");
        }
        buf_printf(out, ",\n        .checksum = \"%s\"", m->checksum);
        buf_puts(out, ",\n        .flags = ");
        flags_text(out, m->flags);
        if (m->down_file != NULL) {
            buf_puts(out, ",\n        .down_file = ");
            emit_literal(out, m->down_file, strlen(m->down_file), "            ");
            buf_printf(out, ",\n        .down_line = %uu", m->down_line);
        } else {
            buf_puts(out, ",\n        .down_file = NULL,\n        .down_line = 0u");
        }
        buf_puts(out, i + 1 < count ? "\n    },\n" : "\n    }\n");
    }
    buf_puts(out, "};\n\n");
}

/*
** One array of the set and its count: `.name = <symbol>_name` and its
** element count, or NULL and 0 when it is empty (an empty array is not C).
*/
static void set_array(struct buf *out, const char *symbol, const char *name, const char *count_name, size_t n)
{
    if (n > 0)
        buf_printf(out, "    .%s = %s_%s,\n    .%s = sizeof %s_%s / sizeof %s_%s[0],\n", name, symbol, name,
                   count_name, symbol, name, symbol, name);
    else
        buf_printf(out, "    .%s = NULL,\n    .%s = 0,\n", name, count_name);
}

/* Does the folder's tool keep a checksum of every migration (all hex or digits)? */
static int has_toolsums(const struct tool_folder *f)
{
    size_t i;

    for (i = 0; i < f->count; i++)
        if (!f->items[i].toolsum[0] || f->items[i].toolsum[strspn(f->items[i].toolsum, "-0123456789abcdef")])
            return 0;
    return f->count > 0;
}

int emit_c(const struct tool_folder *f, const char *symbol, const char *header,
           struct buf *out, char *err, size_t errlen)
{
    const struct tool_object *o;
    const char *dir, *hname;
    size_t dirlen, hlen, i;

    if (!emit_valid_symbol(symbol))
        return emit_fail(err, errlen,
                         "invalid symbol: it must be a C identifier that is neither reserved nor a keyword");
    hname = base_name(header, &hlen);
    if (!valid_header_name(hname, hlen))
        return emit_fail(err, errlen,
                         "the header's file name must consist of letters, digits and . _ + - only");
    if (check_folder(f, err, errlen) != 0)
        return -1;
    dir = base_name(f->dir, &dirlen);

    /* Never the path as given: Meson passes absolute ones. */
    buf_puts(out, "/* Generated by sqlmig compile from ");
    comment_text(out, dir, dirlen);
    buf_puts(out, "/. Do not edit. */\n");
    buf_puts(out, "#include \"");
    buf_append(out, hname, hlen);
    buf_puts(out, "\"\n\n");

    buf_puts(out, "#if !defined(SQLMIG_FORMAT) || SQLMIG_FORMAT != 4\n");
    buf_printf(out, "#error \"%s was generated for sqlmig format 4: "
                    "regenerate it with the sqlmig that matches sqlmig.h\"\n", symbol);
    buf_puts(out, "#endif\n\n");

    /* C promises only 4095 characters per literal; every compiler we target
    ** takes more, so -Wpedantic's -Woverlength-strings is off for the data. */
    buf_puts(out, "#if defined(__GNUC__)\n"
                  "#pragma GCC diagnostic push\n"
                  "#pragma GCC diagnostic ignored \"-Woverlength-strings\"\n"
                  "#endif\n\n");

    migration_array(out, symbol, "migrations", "up", f->items, f->count);
    migration_array(out, symbol, "repeatables", "repeatable_up", f->repeatables, f->repeatable_count);

    if (f->object_count > 0) {
        buf_printf(out, "static const struct sqlmig_object %s_objects[] = {\n", symbol);
        for (i = 0; i < f->object_count; i++) {
            o = &f->objects[i];
            buf_puts(out, "    {\n        .type = ");
            emit_literal(out, o->type, strlen(o->type), "            ");
            buf_puts(out, ",\n        .name = ");
            emit_literal(out, o->name, strlen(o->name), "            ");
            if (o->sql != NULL) {
                buf_puts(out, ",\n        .sql =\n            ");
                emit_literal(out, o->sql, strlen(o->sql), "            ");
            } else {
                buf_puts(out, ",\n        .sql = NULL");
            }
            buf_puts(out, i + 1 < f->object_count ? "\n    },\n" : "\n    }\n");
        }
        buf_puts(out, "};\n\n");
    }

    if (f->change_count > 0) {
        buf_puts(out, "/* The schema after each step: what changed, as fingerprints. */\n");
        buf_printf(out, "static const struct sqlmig_change %s_changes[] = {\n", symbol);
        for (i = 0; i < f->change_count; i++) {
            const struct tool_change *c = &f->changes[i];
            buf_printf(out, "    { %zu, ", c->step);
            emit_literal(out, c->type, strlen(c->type), "        ");
            buf_puts(out, ", ");
            emit_literal(out, c->name, strlen(c->name), "        ");
            buf_printf(out, ", UINT64_C(0x%016" PRIx64 ") }%s\n", c->fp, i + 1 < f->change_count ? "," : "");
        }
        buf_puts(out, "};\n\n");
    }

    if (has_toolsums(f)) {
        buf_puts(out, "/* The checksum the folder's own tool keeps in its ledger, per migration. */\n");
        buf_printf(out, "static const char *const %s_toolsums[] = {\n", symbol);
        for (i = 0; i < f->count; i++)
            buf_printf(out, "    \"%s\"%s\n", f->items[i].toolsum, i + 1 < f->count ? "," : "");
        buf_puts(out, "};\n\n");
    }

    if (f->snapshot != NULL) {
        buf_puts(out, "/* The final state: SQL that creates it on an empty database. */\n");
        buf_printf(out, "static const char %s_snapshot[] =\n    ", symbol);
        emit_literal(out, f->snapshot, f->snapshot_len, "    ");
        buf_puts(out, ";\n\n");
    }

    buf_puts(out, "#if defined(__GNUC__)\n"
                  "#pragma GCC diagnostic pop\n"
                  "#endif\n\n");

    buf_printf(out, "const struct sqlmig_set %s = {\n", symbol);
    set_array(out, symbol, "migrations", "count", f->count);
    set_array(out, symbol, "objects", "object_count", f->object_count);
    if (f->snapshot != NULL)
        buf_printf(out, "    .snapshot_sql = %s_snapshot,\n"
                        "    .snapshot_len = sizeof %s_snapshot - 1,\n"
                        "    .snapshot_note = NULL,\n", symbol, symbol);
    else {
        buf_puts(out, "    .snapshot_sql = NULL,\n    .snapshot_len = 0,\n    .snapshot_note = ");
        if (f->snapshot_note != NULL)
            emit_literal(out, f->snapshot_note, strlen(f->snapshot_note), "        ");
        else
            buf_puts(out, "NULL");
        buf_puts(out, ",\n");
    }
    buf_printf(out, "    .snapshot_auto_vacuum = %uu,\n    .snapshot_wal = %uu,\n", f->snapshot ? f->snapshot_auto_vacuum : 0,
               f->snapshot ? f->snapshot_wal : 0);
    set_array(out, symbol, "repeatables", "repeatable_count", f->repeatable_count);
    set_array(out, symbol, "changes", "change_count", f->change_count);
    if (f->layout_label)
        buf_printf(out, "    .layout = \"%s\",\n", f->layout_label);
    else
        buf_puts(out, "    .layout = NULL,\n");
    if (has_toolsums(f))
        buf_printf(out, "    .toolsums = %s_toolsums\n", symbol);
    else
        buf_puts(out, "    .toolsums = NULL\n");
    buf_puts(out, "};\n");

    return emit_done(out, err, errlen);
}

/*
** Prefixes that the uppercased symbol must not start with in a guard: the
** macro names C reserves for future library headers (C11 7.31, C23 7.33;
** "E" stands for E followed by a digit or a letter), and the namespaces of
** sqlmig.h (whose own guard is SQLMIG_H) and sqlite3.h (SQLITE3_H).
** Matching a little more than needed only costs a longer guard.
*/
static const char *const guard_prefixes[] = {
    "SQLMIG", "SQLITE", "E", "FE_", "FP_", "LC_", "SIG", "ATOMIC_", "TIME_",
    "PRI", "SCN", "DBL_", "FLT_", "LDBL_", "DEC32_", "DEC64_", "DEC128_", "INT",
    "UINT", "WINT", "WCHAR", "MATH_"
};

/*
** The include guard: the symbol uppercased plus _H (APP_MIGRATIONS_H), unless
** that could be reserved or taken; then it gets the prefix SQLMIG_ ("events"
** gives SQLMIG_EVENTS_H, "sqlmig" gives SQLMIG_SQLMIG_H). A symbol that ends
** in '_' gets just H, so that no "__" (reserved in C++) appears. A valid
** symbol starts with a letter, so the guard never starts with '_'.
*/
static void guard_text(struct buf *out, const char *symbol)
{
    size_t i, k, len = strlen(symbol);
    int prefixed = 0;
    char c;

    for (i = 0; !prefixed && i < sizeof guard_prefixes / sizeof guard_prefixes[0]; i++) {
        for (k = 0; guard_prefixes[i][k] != '\0'; k++) {
            if (upper(symbol[k]) != guard_prefixes[i][k])
                break; /* also stops at the symbol's NUL */
        }
        if (guard_prefixes[i][k] == '\0')
            prefixed = 1;
    }
    if (prefixed)
        buf_puts(out, "SQLMIG_");
    for (i = 0; i < len; i++) {
        c = upper(symbol[i]);
        buf_putc(out, c);
    }
    buf_puts(out, symbol[len - 1] == '_' ? "H" : "_H");
}

int emit_h(const char *symbol, struct buf *out, char *err, size_t errlen)
{
    if (!emit_valid_symbol(symbol))
        return emit_fail(err, errlen,
                         "invalid symbol: it must be a C identifier that is neither reserved nor a keyword");

    buf_puts(out, "/* Generated by sqlmig compile. Do not edit. */\n#ifndef ");
    guard_text(out, symbol);
    buf_puts(out, "\n#define ");
    guard_text(out, symbol);
    buf_puts(out, "\n\n#include \"sqlmig.h\"\n\n"
                  "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    buf_puts(out, "/* The embedded migrations and final schema: pass to sqlmig_migrate(). */\n");
    buf_printf(out, "extern const struct sqlmig_set %s;\n\n", symbol);
    buf_puts(out, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* ");
    guard_text(out, symbol);
    buf_puts(out, " */\n");
    return emit_done(out, err, errlen);
}

/*
** Append one path escaped for a Make-style depfile, as GCC's mkdeps and
** glib's escape_makefile_string do: a space becomes "\ " and the
** backslashes right before it are doubled (Make reads 2N+1 backslashes and a
** space as N backslashes and a space), '#' becomes "\#", '$' becomes "$$".
** Other backslashes stay as they are. What neither Make nor Ninja can read
** back is refused: line breaks, a tab (Ninja keeps the backslash of "\<tab>"),
** a trailing backslash (it would escape the separator) and a trailing colon
** (Ninja takes "x:" for a target).
*/
static int depfile_path(struct buf *out, const char *path, char *err, size_t errlen)
{
    size_t i, len = strlen(path), k;

    if (len == 0)
        return emit_fail(err, errlen, "an empty path cannot be written to a depfile");
    for (i = 0; i < len; i++) {
        if (path[i] == '\n' || path[i] == '\r' || path[i] == '\t')
            return emit_fail(err, errlen,
                             "%s: a path with a line break or a tab cannot be written to a depfile",
                             path);
    }
    if (path[len - 1] == '\\' || path[len - 1] == ':')
        return emit_fail(err, errlen,
                         "%s: a path that ends in '%c' cannot be written to a depfile",
                         path, path[len - 1]);
    for (i = 0; i < len; i++) {
        switch (path[i]) {
        case ' ':
            for (k = i; k > 0 && path[k - 1] == '\\'; k--)
                buf_putc(out, '\\');
            buf_putc(out, '\\');
            break;
        case '#':
            buf_putc(out, '\\');
            break;
        case '$':
            buf_putc(out, '$');
            break;
        default:
            break;
        }
        buf_putc(out, path[i]);
    }
    return 0;
}

int emit_depfile(const struct tool_folder *f, const char *target,
                 struct buf *out, char *err, size_t errlen)
{
    size_t i;

    if (f->dir == NULL || (f->input_count > 0 && f->inputs == NULL))
        return emit_fail(err, errlen, "internal error: no folder for the depfile");
    if (depfile_path(out, target, err, errlen) != 0)
        return -1;
    buf_puts(out, ": ");
    /* The folder itself: adding or removing a migration changes its mtime. */
    if (depfile_path(out, f->dir, err, errlen) != 0)
        return -1;
    for (i = 0; i < f->input_count; i++) {
        buf_puts(out, " \\\n ");
        if (depfile_path(out, f->inputs[i], err, errlen) != 0)
            return -1;
    }
    /* A rebuilt extension can change what the replay proves. */
    for (i = 0; i < f->extension_count; i++) {
        buf_puts(out, " \\\n ");
        if (depfile_path(out, f->extensions[i], err, errlen) != 0)
            return -1;
    }
    buf_putc(out, '\n');
    /*
    ** An empty rule for each, as gcc -MP writes: once a migration is
    ** deleted, make takes it for a file it need not make, instead of
    ** stopping with "No rule to make target". Ninja ignores them.
    */
    for (i = 0; i < f->input_count + f->extension_count + 1; i++) {
        const char *path = i == 0 ? f->dir : i <= f->input_count ? f->inputs[i - 1]
                           : f->extensions[i - 1 - f->input_count];
        buf_putc(out, '\n');
        if (depfile_path(out, path, err, errlen) != 0)
            return -1;
        buf_puts(out, ":\n");
    }
    return emit_done(out, err, errlen);
}

int emit_schema(const struct tool_folder *f, struct buf *out, char *err, size_t errlen)
{
    const char *dir;
    size_t dirlen;

    if (f->dir) {
        dir = base_name(f->dir, &dirlen);
        buf_puts(out, "-- The schema that ");
        comment_text(out, dir, dirlen);
        buf_puts(out, "/ reaches, as replayed by sqlmig compile. Do not edit.\n\n");
    }
    if (f->schema_sql != NULL)
        buf_append(out, f->schema_sql, f->schema_len);
    return emit_done(out, err, errlen);
}

/* 1 if the file at path holds exactly the bytes of b; 0 if not or unreadable. */
static int same_content(const char *path, const struct buf *b)
{
    char chunk[65536];
    struct stat st;
    size_t done = 0;
    ssize_t got;
    int fd, same = 0;

    fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uintmax_t)st.st_size != (uintmax_t)b->len)
        goto out;
    for (;;) {
        got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            goto out;
        if (got == 0)
            break;
        if ((size_t)got > b->len - done || memcmp(chunk, b->data + done, (size_t)got) != 0)
            goto out;
        done += (size_t)got;
    }
    same = done == b->len; /* it may have shrunk since the fstat */
out:
    if (close(fd) != 0)
        same = 0;
    return same;
}

/* Write all of data to fd, through short writes and EINTR. 0 or -1. */
static int write_all(int fd, const char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int write_if_changed(const char *path, const struct buf *b, char *err, size_t errlen)
{
    char tmp[4096];
    int fd = -1, i, n, e;

    if (b->failed)
        return emit_fail(err, errlen, "%s: out of memory", path);
    if (same_content(path, b))
        return 0;

    /*
    ** A new name next to the target (rename() only works within one file
    ** system). open() with 0666 rather than mkstemp(), which would create
    ** the file with mode 0600 whatever the umask.
    */
    for (i = 0; i < 100 && fd < 0; i++) {
        n = snprintf(tmp, sizeof tmp, "%s.%ld-%d.tmp", path, (long)getpid(), i);
        if (n < 0 || n >= (int)sizeof tmp)
            return emit_fail(err, errlen, "%s: path too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            return emit_fail(err, errlen, "%s: cannot create a file next to it: %s",
                             path, strerror(errno));
    }
    if (fd < 0)
        return emit_fail(err, errlen, "%s: cannot create a temporary file next to it", path);

    if (write_all(fd, b->data, b->len) != 0) {
        e = errno;
        (void)close(fd);  /* already failing: report the first error */
        (void)unlink(tmp);
        return emit_fail(err, errlen, "%s: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) { /* some file systems report write errors only here */
        e = errno;
        (void)unlink(tmp);
        return emit_fail(err, errlen, "%s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        (void)unlink(tmp);
        return emit_fail(err, errlen, "%s: %s", path, strerror(e));
    }
    return 0;
}
