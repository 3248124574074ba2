/*
** history.c — the schema after each migration of the first replay, as the
** changes of fingerprints from one step to the next (history.h).
*/
#include "history.h"

#include "diag.h"
#include "snapshot.h"
#include "sqlmig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One object of the schema: its type, its name as written, its fingerprint. */
struct object {
    char *type;
    char *name;
    uint64_t fp;
};

struct history {
    struct object *objects;    /* the schema after the last step, by (type, name without case) */
    size_t count;
    sqlite3_int64 schema_version;
};

struct history *history_new(void)
{
    struct history *h = calloc(1, sizeof *h);

    if (h)
        h->schema_version = -1;
    return h;
}

static void free_objects(struct object *o, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(o[i].type);
        free(o[i].name);
    }
    free(o);
}

void history_free(struct history *h)
{
    if (!h)
        return;
    free_objects(h->objects, h->count);
    free(h);
}

static int by_key(const struct object *a, const struct object *b)
{
    int d = strcmp(a->type, b->type);
    return d ? d : sqlite3_stricmp(a->name, b->name);
}

/* Append one change; -1 when out of memory. */
static int add_change(struct tool_folder *f, size_t step, const struct object *o, uint64_t fp)
{
    struct tool_change *grown, *c;

    if (f->change_count % 64 == 0) {
        if (!(grown = realloc(f->changes, (f->change_count + 64) * sizeof *grown)))
            return -1;
        f->changes = grown;
    }
    c = &f->changes[f->change_count];
    c->step = step;
    c->fp = fp;
    c->type = strdup(o->type);
    c->name = strdup(o->name);
    if (!c->type || !c->name) {
        free(c->type);
        free(c->name);
        return -1;
    }
    f->change_count++;
    return 0;
}

/* Read db's schema, sorted as struct history keeps it, into *out. */
static int read_schema(sqlite3 *db, const char *ledger, struct object **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    struct object *o = NULL, *grown;
    size_t cap = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT type, name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL "
                                "AND name NOT GLOB 'sqlite_*' ORDER BY type, name COLLATE NOCASE", -1, &st, NULL);

    *n = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0), *name = (const char *)sqlite3_column_text(st, 1);
        rc = SQLITE_OK;
        if (snapshot_is_ledger(ledger, name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            if (!(grown = realloc(o, cap * sizeof *grown))) {
                rc = SQLITE_NOMEM;
                break;
            }
            o = grown;
        }
        o[*n].fp = sqlmig_fingerprint(type, (const char *)sqlite3_column_text(st, 2));
        o[*n].type = strdup(type);
        o[*n].name = strdup(name);
        if (!o[*n].type || !o[*n].name) {
            free(o[*n].type);
            free(o[*n].name);
            rc = SQLITE_NOMEM;
            break;
        }
        ++*n;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free_objects(o, *n);
        diag_fatal("cannot read the replay's schema: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        return -1;
    }
    *out = o;
    return 0;
}

int history_step(struct history *h, sqlite3 *db, const char *ledger, size_t step, struct tool_folder *f)
{
    struct object *now = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_int64 version = -1;
    size_t n = 0, a = 0, b = 0;
    int rc = 0;

    if (sqlite3_prepare_v2(db, "PRAGMA main.schema_version", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (version == h->schema_version && version >= 0)
        return 0;
    h->schema_version = version;
    if (read_schema(db, ledger, &now, &n) != 0)
        return -1;
    /* Merge the schema before with the schema after: what is new, redefined or gone. */
    while (rc == 0 && (a < h->count || b < n)) {
        if (b == n || (a < h->count && by_key(&h->objects[a], &now[b]) < 0)) {
            rc = add_change(f, step, &h->objects[a++], 0); /* gone */
        } else if (a == h->count || by_key(&h->objects[a], &now[b]) > 0) {
            rc = add_change(f, step, &now[b], now[b].fp); /* new */
            b++;
        } else { /* there before and after: redefined? */
            if (h->objects[a].fp != now[b].fp || strcmp(h->objects[a].name, now[b].name) != 0)
                rc = add_change(f, step, &now[b], now[b].fp);
            a++;
            b++;
        }
    }
    free_objects(h->objects, h->count);
    h->objects = now;
    h->count = n;
    if (rc != 0)
        diag_fatal("out of memory");
    return rc;
}
