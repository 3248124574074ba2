/*
** folder.c — read a migrations folder (see folder.h): list it, let layout.c
** say what each entry is, then read, split, pair and check the migrations.
**
** The order of readdir() is unspecified, so entries are sorted by name and
** pieces by version (then kind, then file) before anything is paired or
** emitted: the output never depends on the file system. Problems are held
** in a diag_list and printed sorted by file, each distinct one once.
*/
#include "folder.h"

#include "diag.h"
#include "layout.h"
#include "new.h"
#include "scan.h"
#include "sha256.h"
#include "toolsum.h"
#include "sqlmig.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int by_name(const void *pa, const void *pb)
{
    return strcmp(((const struct layout_entry *)pa)->name, ((const struct layout_entry *)pb)->name);
}

/* Every entry of `dir` but "." and "..", sorted by name. */
static struct layout_entry *list_dir(const char *dir, size_t *count, struct diag_list *d)
{
    DIR *dh = opendir(dir);
    struct dirent *de;
    struct layout_entry *list = NULL;
    size_t n = 0, cap = 0;

    *count = 0;
    if (!dh) {
        diag_add(d, DIAG_ERROR, dir, 0, 0, "cannot open the migrations folder: %s", strerror(errno));
        return NULL;
    }
    while ((errno = 0, de = readdir(dh)) != NULL) {
        struct stat st;
        char *path;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            struct layout_entry *grown;
            cap = cap ? cap * 2 : 64;
            grown = realloc(list, cap * sizeof *grown);
            if (!grown)
                break;
            list = grown;
        }
        memset(&list[n], 0, sizeof list[n]);
        path = layout_join(dir, de->d_name);
        if (!path || !(list[n].name = strdup(de->d_name))) {
            free(path);
            break;
        }
        /* An entry stat() cannot follow (a dangling link) is neither: one
        ** named like a migration is then refused as not a regular file. */
        if (stat(path, &st) == 0) {
            list[n].is_dir = S_ISDIR(st.st_mode);
            list[n].is_file = S_ISREG(st.st_mode);
        }
        free(path);
        n++;
    }
    if (de != NULL)
        diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory listing the folder");
    else if (errno != 0)
        diag_add(d, DIAG_ERROR, dir, 0, 0, "cannot list the folder: %s", strerror(errno));
    closedir(dh);
    if (n > 1)
        qsort(list, n, sizeof *list, by_name);
    *count = n;
    return list;
}

static void free_entries(struct layout_entry *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(list[i].name);
        free(list[i].text);
    }
    free(list);
}

static int add_input(struct tool_folder *f, const char *path)
{
    char *copy = strdup(path);
    char **grown = copy ? realloc(f->inputs, (f->input_count + 1) * sizeof *grown) : NULL;

    if (!grown) {
        free(copy);
        return -1;
    }
    f->inputs = grown;
    f->inputs[f->input_count++] = copy;
    return 0;
}

static int compare_pieces(const void *pa, const void *pb)
{
    const struct layout_piece *a = pa, *b = pb;

    if (a->version != b->version)
        return a->version < b->version ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind == SCAN_DOWN ? 1 : b->kind == SCAN_DOWN ? -1 : a->kind < b->kind ? -1 : 1;
    return strcmp(a->file, b->file);
}

/* A piece's text: the listing's copy for a top-level file, else read now. */
static char *take_text(const char *dir, struct layout_entry *es, size_t n, const char *file, size_t *len,
                       struct diag_list *d)
{
    struct layout_entry key, *e;
    char *path, *text;

    key.name = (char *)file;
    e = strchr(file, '/') ? NULL : bsearch(&key, es, n, sizeof *es, by_name);
    if (e && e->text) {
        text = e->text;
        *len = e->len;
        e->text = NULL;
        return text;
    }
    path = layout_join(dir, file);
    text = path ? layout_read_file(path, len, d) : NULL;
    free(path);
    return text;
}

static char *copy_range(const char *text, size_t from, size_t to)
{
    char *p = malloc(to - from + 1);

    if (p) {
        memcpy(p, text + from, to - from);
        p[to - from] = '\0';
    }
    return p;
}

/* A file's name without the sub-folders it is in. */
static const char *base_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    return slash ? slash + 1 : file;
}

static unsigned line_at(const char *text, size_t offset)
{
    unsigned line, col;

    diag_position(text, offset, 1, &line, &col);
    return line;
}

/* What each tool does with a migration that holds no statement. */
static const char *const empty_note[LAYOUT_COUNT] = {
    NULL, /* plain: an error */
    "sqlx runs it as a no-op", "golang-migrate skips it", "as goose does", "as dbmate does",
    "as diesel does", "as Drizzle does", "as Flyway does",
};

/* A down part without a statement undoes nothing that was done. */
#define NO_DOWN "the down part holds no statement: the migration has no down part, and sqlmig_rollback() will " \
                "not undo it"

/* The statement `sqlmig new` writes in a template, still there (new.h). */
static void warn_placeholder(const char *sql, unsigned first_line, const char *path, struct diag_list *d)
{
    const char *at = sql ? strstr(sql, NEW_PLACEHOLDER) : NULL;
    unsigned line, col;

    if (at) {
        diag_position(sql, (size_t)(at - sql), first_line, &line, &col);
        diag_add(d, DIAG_WARNING, path, line, col, "the placeholder of `sqlmig new` is still here: "
                 "replace it with the migration's SQL");
    }
}

/*
** Read one migration's text (or its sections), scan it in the layout's
** dialect, and fill m's up and down parts, flags and checksum.
*/
static int load(struct tool_folder *f, struct layout_entry *es, size_t n, struct tool_migration *m,
                const struct layout_piece *up, const struct layout_piece *down, struct diag_list *d)
{
    enum scan_layout layout = (enum scan_layout)f->layout;
    struct scan_sql ss;
    size_t len;
    unsigned line, col;
    char *text = take_text(f->dir, es, n, m->file, &len, d);
    int errors = 0;

    /* The tool's own checksum is of the file as it is, placeholders and all. */
    if (text && up->kind != SCAN_SECTIONS)
        (void)toolsum(layout, text, len, m->toolsum);
    if (text && layout == LAYOUT_FLYWAY)
        text = layout_placeholders(text, &len, m->path, base_of(m->file), f->placeholders, f->placeholder_count, d);
    if (!text)
        return 1;
    if (add_input(f, m->path) != 0) {
        free(text);
        diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
        return 1;
    }
    scan_sql_layout(layout, text, len, &ss);
    if (ss.problem) {
        diag_position(text, ss.error_offset, 1, &line, &col);
        diag_add(d, DIAG_ERROR, m->path, line, col, "%s", ss.problem);
        free(text);
        return 1;
    }
    m->flags = ss.flags | up->flags;
    if (up->kind == SCAN_SECTIONS) {
        const struct scan_section *u = &ss.sections[0], *dn = ss.section_count > 1 ? &ss.sections[1] : NULL;

        if (dn && !dn->stats.statements) {
            diag_add(d, DIAG_NOTE, m->path, line_at(text, dn->body), 0, NO_DOWN);
            dn = NULL;
        }
        if (ss.section_count == 0) {
            diag_add(d, DIAG_ERROR, m->path, 0, 0, layout == LAYOUT_GOOSE
                     ? "no '-- +goose Up' annotation: goose needs one in every migration"
                     : "no '-- migrate:up' marker: dbmate needs one in every migration");
            free(text);
            return 1;
        }
        if (ss.statements) {
            diag_position(text, ss.preamble_at, 1, &line, &col);
            diag_add(d, DIAG_ERROR, m->path, line, col, layout == LAYOUT_GOOSE
                     ? "SQL before '-- +goose Up', which goose would not run: move it into the up section"
                     : "SQL before '-- migrate:up', which dbmate refuses: move it into the up section");
            errors++;
        }
        m->up = copy_range(text, u->body, u->end);
        m->up_len = u->end - u->body;
        m->up_line = line_at(text, u->body);
        m->flags |= u->flags;
        m->statements = u->stats.statements;
        m->reshapes = u->stats.reshapes;
        if (dn) {
            m->down_file = strdup(m->file);
            m->down_path = strdup(m->path);
            m->down = copy_range(text, dn->body, dn->end);
            m->down_len = dn->end - dn->body;
            m->down_line = line_at(text, dn->body);
        }
        free(text);
        if (!m->up || (dn && (!m->down || !m->down_file || !m->down_path))) {
            diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
            return errors + 1;
        }
    } else {
        m->up = text;
        m->up_len = len;
        m->up_line = 1;
        m->statements = ss.statements;
        m->reshapes = ss.reshapes;
    }
    /* golang-migrate files may wrap themselves in BEGIN ... COMMIT: the
    ** runner then skips that pair and runs the rest in its own transaction. */
    if (layout == LAYOUT_GOLANG_MIGRATE && ss.wraps)
        m->flags |= SQLMIG_WRAPPED;
    if (!m->statements) {
        if (!empty_note[layout]) {
            diag_add(d, DIAG_ERROR, m->path, 0, 0, "empty migration: the file has no SQL statement "
                     "(only blanks and comments)");
            errors++;
        } else {
            diag_add(d, DIAG_NOTE, m->path, 0, 0, "the up part holds no statement: it is recorded as applied "
                     "and runs nothing (%s)", empty_note[layout]);
        }
    }
    sqlmig_checksum(m->up, m->up_len, m->checksum);

    if (down) {
        m->down_file = strdup(down->file);
        m->down_path = layout_join(f->dir, down->file);
        if (!m->down_file || !m->down_path) {
            diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
            return errors + 1;
        }
        m->down = take_text(f->dir, es, n, down->file, &m->down_len, d);
        if (m->down && layout == LAYOUT_FLYWAY)
            m->down = layout_placeholders(m->down, &m->down_len, m->down_path, base_of(m->down_file),
                                          f->placeholders, f->placeholder_count, d);
        m->down_line = 1;
        if (!m->down || add_input(f, m->down_path) != 0)
            return errors + 1;
        scan_sql_layout(layout, m->down, m->down_len, &ss);
        if (ss.problem) {
            diag_position(m->down, ss.error_offset, 1, &line, &col);
            diag_add(d, DIAG_ERROR, m->down_path, line, col, "%s", ss.problem);
            errors++;
        }
        if (layout == LAYOUT_GOLANG_MIGRATE && ss.wraps)
            m->flags |= SQLMIG_DOWN_WRAPPED;
        if (!ss.statements && !ss.problem) {
            diag_add(d, DIAG_NOTE, m->down_path, 0, 0, NO_DOWN);
            free(m->down);
            free(m->down_file);
            free(m->down_path);
            m->down = m->down_file = m->down_path = NULL;
            m->down_len = 0;
            m->flags &= ~SQLMIG_DOWN_WRAPPED;
        }
    }
    warn_placeholder(m->up, m->up_line, m->path, d);
    warn_placeholder(m->down, m->down_line, m->down_path, d);
    return errors;
}

/*
** The up file a down file wants: its name with the last ".down." made
** ".up.", or Flyway's U made V, or diesel's down.sql made up.sql; "" when
** there is no such name.
*/
static void expected_up(const char *down, char *out, size_t cap)
{
    const char *p, *last = NULL;
    size_t n = strlen(down);

    for (p = strstr(down, ".down."); p; p = strstr(p + 1, ".down."))
        last = p;
    if (last)
        snprintf(out, cap, "%.*s.up.%s", (int)(last - down), down, last + 6);
    else if (n >= 8 && strcmp(down + n - 8, "down.sql") == 0)
        snprintf(out, cap, "%.*sup.sql", (int)(n - 8), down);
    else if (down[0] == 'U')
        snprintf(out, cap, "V%s", down + 1);
    else
        out[0] = '\0';
}

/* Does this layout pair an up and a down file only when their names agree? */
static int pairs_by_name(enum scan_layout layout)
{
    return layout == LAYOUT_PLAIN || layout == LAYOUT_SQLX;
}

/*
** Turn the sorted pieces into migrations: per version, one up part (a plain
** or up file, or a file with sections) and at most one down file.
*/
static int build_migrations(struct tool_folder *f, struct layout_entry *es, size_t n, struct layout_piece *ps,
                            size_t count, struct diag_list *d)
{
    enum scan_layout layout = (enum scan_layout)f->layout;
    size_t i = 0, k;
    int errors = 0;

    f->items = calloc(count ? count : 1, sizeof *f->items);
    if (!f->items) {
        diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
        return 1;
    }
    while (i < count) {
        struct layout_piece *e = &ps[i], *down = NULL;
        struct tool_migration *m;
        size_t j = i + 1;
        char *path;

        if (e->kind == SCAN_REPEATABLE) { /* version 0: they come first; build_repeatables() takes them */
            i++;
            continue;
        }

        while (j < count && ps[j].version == e->version)
            j++;
        path = layout_join(f->dir, ps[j - 1].file);
        if (e->kind == SCAN_DOWN) {
            char want[600];
            expected_up(e->file, want, sizeof want);
            if (!want[0])
                snprintf(want, sizeof want, "version %" PRId64, e->version);
            diag_add(d, DIAG_ERROR, path ? path : e->file, 0, 0,
                     "down migration without its up migration (expected %s)", want);
            errors++;
        } else if (j - i > 2 || (j - i == 2 && (ps[i + 1].kind != SCAN_DOWN || e->kind == SCAN_SECTIONS ||
                                                (e->kind == SCAN_PLAIN && layout != LAYOUT_FLYWAY)))) {
            char files[600] = "";
            size_t len = 0;
            for (k = i; k < j && len < sizeof files; k++)
                len += (size_t)snprintf(files + len, sizeof files - len, "%s%s", k == i ? "" : ", ", ps[k].file);
            diag_add(d, DIAG_ERROR, path ? path : e->file, 0, 0,
                     "version %" PRId64 " is used by %zu files: %s (one migration per version)", e->version, j - i,
                     files);
            errors++;
        } else if (j - i == 2 && pairs_by_name(layout) && strcmp(e->name, ps[i + 1].name) != 0) {
            diag_add(d, DIAG_ERROR, path ? path : e->file, 0, 0,
                     "down migration is named '%s' but its up migration %s is named '%s'", ps[i + 1].name,
                     e->file, e->name);
            errors++;
        } else {
            down = j - i == 2 ? &ps[i + 1] : NULL;
            m = &f->items[f->count++];
            m->version = e->version;
            m->name = e->name;
            m->file = e->file;
            e->name = e->file = NULL;
            if (!(m->path = layout_join(f->dir, m->file))) {
                free(path);
                diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
                return errors + 1;
            }
            errors += load(f, es, n, m, e, down, d);
        }
        free(path);
        i = j;
    }
    return errors;
}

static int by_migration_name(const void *pa, const void *pb)
{
    return strcmp(((const struct tool_migration *)pa)->name, ((const struct tool_migration *)pb)->name);
}

/*
** Flyway's repeatable migrations, in Flyway's order: by description, which
** is also their key in the table of repeatable migrations, so two files
** (in two sub-folders) may not share one.
*/
static int build_repeatables(struct tool_folder *f, struct layout_entry *es, size_t n, struct layout_piece *ps,
                             size_t count, struct diag_list *d)
{
    size_t i, r = 0;
    int errors = 0;

    for (i = 0; i < count; i++)
        r += ps[i].kind == SCAN_REPEATABLE;
    if (r == 0)
        return 0;
    if (!(f->repeatables = calloc(r, sizeof *f->repeatables))) {
        diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
        return 1;
    }
    for (i = 0; i < count; i++) {
        struct layout_piece *e = &ps[i];
        struct tool_migration *m;
        if (e->kind != SCAN_REPEATABLE)
            continue;
        m = &f->repeatables[f->repeatable_count++];
        m->name = e->name;
        m->file = e->file;
        e->name = e->file = NULL;
        if (!(m->path = layout_join(f->dir, m->file))) {
            diag_add(d, DIAG_ERROR, f->dir, 0, 0, "out of memory");
            return errors + 1;
        }
        errors += load(f, es, n, m, e, NULL, d);
        if (m->flags & (SQLMIG_NO_TRANSACTION | SQLMIG_ATTACH)) {
            diag_add(d, DIAG_ERROR, m->path, 0, 0, "a repeatable migration runs in a transaction of its own, "
                     "which it may neither leave (executeInTransaction=false, -- sqlmig:no-transaction) nor "
                     "use to attach a file (-- sqlmig:attach): make it a versioned migration");
            errors++;
        }
    }
    qsort(f->repeatables, f->repeatable_count, sizeof *f->repeatables, by_migration_name);
    for (i = 1; i < f->repeatable_count; i++)
        if (strcmp(f->repeatables[i - 1].name, f->repeatables[i].name) == 0) {
            diag_add(d, DIAG_ERROR, f->repeatables[i].path, 0, 0, "same description, '%s', as %s: a repeatable "
                     "migration is known by its description, so rename one", f->repeatables[i].name,
                     f->repeatables[i - 1].file);
            errors++;
        }
    return errors;
}

/*
** What dbmate sorts (file names) and diesel sorts (the folder's version,
** dashes dropped), as text, into key[].
*/
static void text_order_key(const struct tool_folder *f, const struct tool_migration *m, char *key, size_t cap)
{
    size_t i, n = 0;

    if (f->layout == LAYOUT_DBMATE) {
        snprintf(key, cap, "%s", m->file);
        return;
    }
    for (i = 0; m->file[i] && m->file[i] != '_' && m->file[i] != '/' && n + 1 < cap; i++)
        if (m->file[i] != '-')
            key[n++] = m->file[i];
    key[n] = '\0';
}

/*
** dbmate and diesel order by text: where that order is not the numeric one,
** the tool and sqlmig would disagree on the history.
*/
static int same_order(const struct tool_folder *f, struct diag_list *d)
{
    char a[600], b[600];
    size_t i;

    if (f->layout != LAYOUT_DBMATE && f->layout != LAYOUT_DIESEL)
        return 0;
    for (i = 1; i < f->count; i++) {
        text_order_key(f, &f->items[i - 1], a, sizeof a);
        text_order_key(f, &f->items[i], b, sizeof b);
        if (strcmp(a, b) > 0) {
            diag_add(d, DIAG_ERROR, f->items[i].path, 0, 0,
                     "%s orders versions as text and runs this before %s, which has the lower version: give "
                     "both versions the same number of digits", layout_name((enum scan_layout)f->layout),
                     f->items[i - 1].file);
            return 1;
        }
    }
    return 0;
}

/*
** Nothing silent: a folder where no migration was found is an error when
** it holds sub-folders or SQL that were not placed, and a note when empty.
*/
static int nothing_found(const struct tool_folder *f, const struct layout_entry *es, size_t n,
                         struct diag_list *d)
{
    char what[600] = "";
    size_t i, len = 0, shown = 0, other = 0;

    if (f->count > 0 || f->repeatable_count > 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (es[i].name[0] == '.' || !(es[i].is_dir || strstr(es[i].name, ".sql") || strstr(es[i].name, ".SQL"))) {
            other += es[i].name[0] != '.';
            continue;
        }
        if (shown++ < 4 && len < sizeof what)
            len += (size_t)snprintf(what + len, sizeof what - len, "%s%s%s", shown > 1 ? ", " : "", es[i].name,
                                    es[i].is_dir ? "/" : "");
    }
    if (shown) {
        diag_add(d, DIAG_ERROR, f->dir, 0, 0,
                 "no migration found, but the folder holds %s%s, which the %s layout does not read: is it the "
                 "right folder, or is the layout another (--layout NAME; see docs/layouts.md)?",
                 what, shown > 4 ? ", ..." : "", layout_name((enum scan_layout)f->layout));
        return 1;
    }
    diag_add(d, DIAG_NOTE, f->dir, 0, 0, "no migration in this folder%s: the set is empty",
             other ? " (only files that are not SQL)" : "");
    return 0;
}

int folder_read(const char *dir, int layout, int errors_only, struct tool_folder *f)
{
    struct diag_list d;
    struct layout_entry *es;
    struct layout_plan plan;
    size_t n = 0, i, printed;
    int errors = 0;

    memset(&d, 0, sizeof d);
    d.errors_only = errors_only;
    memset(&plan, 0, sizeof plan);
    f->dir = strdup(dir);
    if (!f->dir) {
        diag_fatal("out of memory");
        return 1;
    }
    es = list_dir(dir, &n, &d);
    if (d.count == 0 || es) {
        /* Keep going after a bad name, so one run reports every problem. */
        errors += layout_plan(dir, es, n, (enum scan_layout)layout, &plan, &d);
        f->layout = (int)plan.layout;
        f->layout_label = layout_name(plan.layout);
        f->layout_why = strdup(plan.why);
        for (i = 0; i < plan.extra_count; i++)
            if (add_input(f, plan.extra_inputs[i]) != 0)
                diag_add(&d, DIAG_ERROR, dir, 0, 0, "out of memory");
        if (plan.layout != LAYOUT_COUNT) {
            if (plan.count > 1)
                qsort(plan.pieces, plan.count, sizeof *plan.pieces, compare_pieces);
            errors += build_migrations(f, es, n, plan.pieces, plan.count, &d);
            errors += build_repeatables(f, es, n, plan.pieces, plan.count, &d);
            errors += same_order(f, &d);
            if (!errors)
                errors += nothing_found(f, es, n, &d);
        }
    }
    layout_plan_free(&plan);
    free_entries(es, n);
    printed = diag_flush(&d);
    return printed ? (int)printed : errors ? 1 : 0;
}

static void free_migrations(struct tool_migration *ms, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        struct tool_migration *m = &ms[i];
        free(m->name);
        free(m->file);
        free(m->path);
        free(m->up);
        free(m->down_file);
        free(m->down_path);
        free(m->down);
    }
    free(ms);
}

void tool_folder_free(struct tool_folder *f)
{
    size_t i;

    free_migrations(f->items, f->count);
    free_migrations(f->repeatables, f->repeatable_count);
    for (i = 0; i < f->change_count; i++) {
        free(f->changes[i].type);
        free(f->changes[i].name);
    }
    free(f->changes);
    for (i = 0; i < f->input_count; i++)
        free(f->inputs[i]);
    free(f->inputs);
    for (i = 0; i < f->object_count; i++) {
        free(f->objects[i].type);
        free(f->objects[i].name);
        free(f->objects[i].sql);
    }
    free(f->objects);
    free(f->schema_sql);
    free(f->snapshot);
    free(f->snapshot_note);
    free(f->layout_why);
    free(f->dir);
    memset(f, 0, sizeof *f);
}
