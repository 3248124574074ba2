/*
** memvfs.c — every file in memory, found by name (see memvfs.h).
**
** Locks follow SQLite's protocol between the handles of one process:
** SHARED for readers, one RESERVED writer, PENDING to keep new readers out
** while a writer waits for EXCLUSIVE. The WAL index is a list of regions per
** file with its eight locks, so that WAL works as on a disk.
*/
#include "memvfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unix time 0 as a Julian day number in milliseconds, SQLite's clock. */
#define UNIX_EPOCH_JD_MS INT64_C(210866760000000)

struct memvfs_file {
    struct memvfs_file *next;
    char *name;              /* NULL: a temporary file, gone at its last close */
    unsigned char *data;
    sqlite3_int64 size, cap;
    int opens;               /* handles open on it */
    int unlinked;            /* deleted while open: freed at the last close */
    int shared;              /* handles at SHARED or above */
    int reserved;            /* a handle at RESERVED or above */
    int pending, exclusive;
    /* The WAL index: regions, their locks, and the handles that map them. */
    char **regions;
    int nregion, mappers;
    int shm_shared[SQLITE_SHM_NLOCK];
    int shm_excl[SQLITE_SHM_NLOCK];
};

struct handle {
    sqlite3_file base;
    struct memvfs *m;
    struct memvfs_file *f;
    int lock;                /* SQLITE_LOCK_* this handle holds */
    int mapped;              /* it maps the WAL index */
    unsigned shm_shared, shm_excl; /* WAL index locks it holds, one bit each */
};

static struct memvfs *of(sqlite3_vfs *v)
{
    return (struct memvfs *)v->pAppData;
}

static void free_file(struct memvfs_file *f)
{
    int i;

    for (i = 0; i < f->nregion; i++)
        free(f->regions[i]);
    free(f->regions);
    free(f->data);
    free(f->name);
    free(f);
}

/* Take f out of the list of names; it stays while handles are open on it. */
static void unlink_file(struct memvfs *m, struct memvfs_file *f)
{
    struct memvfs_file **p;

    for (p = &m->files; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    f->unlinked = 1;
    if (f->opens == 0)
        free_file(f);
}

static struct memvfs_file *find(struct memvfs *m, const char *name)
{
    struct memvfs_file *f;

    for (f = m->files; f; f = f->next)
        if (f->name && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* ---- the file methods ----------------------------------------------------- */

static int x_close(sqlite3_file *file)
{
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = h->f;

    if (h->lock >= SQLITE_LOCK_SHARED)
        f->shared--;
    if (h->lock >= SQLITE_LOCK_RESERVED)
        f->reserved = 0;
    if (h->lock >= SQLITE_LOCK_PENDING)
        f->pending = 0;
    if (h->lock == SQLITE_LOCK_EXCLUSIVE)
        f->exclusive = 0;
    if (--f->opens == 0 && (f->unlinked || !f->name)) {
        if (!f->unlinked)
            unlink_file(h->m, f);
        else
            free_file(f);
    }
    return SQLITE_OK;
}

static int x_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
    struct memvfs_file *f = ((struct handle *)file)->f;
    sqlite3_int64 n = off >= f->size ? 0 : f->size - off < amt ? f->size - off : amt;

    if (n > 0)
        memcpy(buf, f->data + off, (size_t)n);
    if (n < amt) {
        memset((char *)buf + n, 0, (size_t)(amt - n));
        return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
}

static int x_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
    struct memvfs_file *f = ((struct handle *)file)->f;
    sqlite3_int64 end = off + amt, cap = f->cap ? f->cap : 8192;
    unsigned char *grown;

    if (end > f->cap) {
        while (cap < end)
            cap *= 2;
        if ((uint64_t)cap > SIZE_MAX || !(grown = realloc(f->data, (size_t)cap)))
            return SQLITE_IOERR_NOMEM;
        f->data = grown;
        f->cap = cap;
    }
    if (off > f->size)
        memset(f->data + f->size, 0, (size_t)(off - f->size));
    memcpy(f->data + off, buf, (size_t)amt);
    if (end > f->size)
        f->size = end;
    return SQLITE_OK;
}

static int x_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct memvfs_file *f = ((struct handle *)file)->f;

    if (size < f->size)
        f->size = size;
    return SQLITE_OK;
}

static int x_sync(sqlite3_file *file, int flags)
{
    (void)file;
    (void)flags;
    return SQLITE_OK;
}

static int x_size(sqlite3_file *file, sqlite3_int64 *size)
{
    *size = ((struct handle *)file)->f->size;
    return SQLITE_OK;
}

static int x_lock(sqlite3_file *file, int level)
{
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = h->f;

    if (h->lock >= level)
        return SQLITE_OK;
    if (level == SQLITE_LOCK_SHARED) {
        if (f->pending || f->exclusive)
            return SQLITE_BUSY;
        f->shared++;
    } else if (level == SQLITE_LOCK_RESERVED) {
        if (f->reserved)
            return SQLITE_BUSY;
        f->reserved = 1;
    } else { /* EXCLUSIVE, through PENDING: no new reader once it waits */
        if (h->lock < SQLITE_LOCK_RESERVED) {
            if (f->reserved)
                return SQLITE_BUSY;
            f->reserved = 1;
            h->lock = SQLITE_LOCK_RESERVED;
        }
        if (h->lock < SQLITE_LOCK_PENDING) {
            if (f->pending)
                return SQLITE_BUSY;
            f->pending = 1;
            h->lock = SQLITE_LOCK_PENDING;
        }
        if (f->shared > 1)
            return SQLITE_BUSY;
        f->exclusive = 1;
    }
    h->lock = level;
    return SQLITE_OK;
}

static int x_unlock(sqlite3_file *file, int level)
{
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = h->f;

    if (h->lock <= level)
        return SQLITE_OK;
    if (h->lock == SQLITE_LOCK_EXCLUSIVE)
        f->exclusive = 0;
    if (h->lock >= SQLITE_LOCK_PENDING)
        f->pending = 0;
    if (h->lock >= SQLITE_LOCK_RESERVED)
        f->reserved = 0;
    if (level == SQLITE_LOCK_NONE && h->lock >= SQLITE_LOCK_SHARED)
        f->shared--;
    h->lock = level;
    return SQLITE_OK;
}

static int x_check_reserved(sqlite3_file *file, int *out)
{
    struct memvfs_file *f = ((struct handle *)file)->f;

    *out = f->reserved || f->pending || f->exclusive;
    return SQLITE_OK;
}

static int x_file_control(sqlite3_file *file, int op, void *arg)
{
    (void)file;
    (void)op;
    (void)arg;
    return SQLITE_NOTFOUND;
}

static int x_sector_size(sqlite3_file *file)
{
    (void)file;
    return 512;
}

static int x_device(sqlite3_file *file)
{
    (void)file;
    return SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static int x_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = h->f;
    char **grown;

    if (!h->mapped) {
        h->mapped = 1;
        f->mappers++;
    }
    if (region >= f->nregion) {
        if (!extend) {
            *out = NULL;
            return SQLITE_OK;
        }
        if (!(grown = realloc(f->regions, (size_t)(region + 1) * sizeof *grown)))
            return SQLITE_IOERR_NOMEM;
        f->regions = grown;
        for (; f->nregion <= region; f->nregion++)
            if (!(f->regions[f->nregion] = calloc(1, (size_t)size)))
                return SQLITE_IOERR_NOMEM;
    }
    *out = f->regions[region];
    return SQLITE_OK;
}

static int x_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = h->f;
    int i;

    if (flags & SQLITE_SHM_UNLOCK) {
        for (i = offset; i < offset + n; i++) {
            if (h->shm_excl & (1u << i))
                f->shm_excl[i] = 0;
            if (h->shm_shared & (1u << i))
                f->shm_shared[i]--;
            h->shm_excl &= ~(1u << i);
            h->shm_shared &= ~(1u << i);
        }
        return SQLITE_OK;
    }
    for (i = offset; i < offset + n; i++) /* all or nothing */
        if ((f->shm_excl[i] && !(h->shm_excl & (1u << i)))
            || (flags & SQLITE_SHM_EXCLUSIVE && f->shm_shared[i] > (int)((h->shm_shared >> i) & 1u)))
            return SQLITE_BUSY;
    for (i = offset; i < offset + n; i++) {
        if (flags & SQLITE_SHM_EXCLUSIVE) {
            f->shm_excl[i] = 1;
            h->shm_excl |= 1u << i;
        } else if (!(h->shm_shared & (1u << i))) {
            f->shm_shared[i]++;
            h->shm_shared |= 1u << i;
        }
    }
    return SQLITE_OK;
}

static void x_shm_barrier(sqlite3_file *file)
{
    (void)file;
}

static int x_shm_unmap(sqlite3_file *file, int delete_flag)
{
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = h->f;
    int i;

    x_shm_lock(file, 0, SQLITE_SHM_NLOCK, SQLITE_SHM_UNLOCK);
    if (h->mapped) {
        h->mapped = 0;
        f->mappers--;
    }
    if (delete_flag && f->mappers == 0) {
        for (i = 0; i < f->nregion; i++)
            free(f->regions[i]);
        free(f->regions);
        f->regions = NULL;
        f->nregion = 0;
    }
    return SQLITE_OK;
}

static const sqlite3_io_methods methods = {
    2, x_close, x_read, x_write, x_truncate, x_sync, x_size, x_lock, x_unlock, x_check_reserved,
    x_file_control, x_sector_size, x_device, x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap,
    NULL, NULL,
};

/* ---- the VFS methods -------------------------------------------------------- */

static int x_open(sqlite3_vfs *v, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    struct memvfs *m = of(v);
    struct handle *h = (struct handle *)file;
    struct memvfs_file *f = name ? find(m, name) : NULL;

    memset(h, 0, sizeof *h);
    if (!f) {
        if (name && !(flags & SQLITE_OPEN_CREATE))
            return SQLITE_CANTOPEN;
        if (!(f = calloc(1, sizeof *f)) || (name && !(f->name = strdup(name)))) {
            free(f);
            return SQLITE_NOMEM;
        }
        f->next = m->files;
        m->files = f;
    }
    f->opens++;
    h->base.pMethods = &methods;
    h->m = m;
    h->f = f;
    if (out_flags)
        *out_flags = flags;
    return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    struct memvfs_file *f = find(of(v), name);

    (void)sync_dir;
    if (f)
        unlink_file(of(v), f);
    return SQLITE_OK;
}

static int x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)flags;
    *out = find(of(v), name) != NULL;
    return SQLITE_OK;
}

static int x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    if ((int)strlen(name) >= n)
        return SQLITE_CANTOPEN;
    strcpy(out, name);
    return SQLITE_OK;
}

/*
** Shared libraries: only those named in m->libraries, opened by the
** machine's own VFS. SQLite also tries the name with ".so" added.
*/
static void *x_dlopen(sqlite3_vfs *v, const char *name)
{
    const struct memvfs *m = of(v);
    sqlite3_vfs *os = sqlite3_vfs_find(NULL);
    size_t i, n;

    for (i = 0; os && name && i < m->library_count; i++) {
        n = strlen(m->libraries[i]);
        if (strncmp(name, m->libraries[i], n) == 0 && (name[n] == '\0' || strcmp(name + n, ".so") == 0))
            return os->xDlOpen(os, name);
    }
    return NULL;
}

static void x_dlerror(sqlite3_vfs *v, int n, char *out)
{
    sqlite3_vfs *os = sqlite3_vfs_find(NULL);

    (void)v;
    if (os)
        os->xDlError(os, n, out);
    else if (n > 0)
        snprintf(out, (size_t)n, "the replay loads no other extension");
}

static void (*x_dlsym(sqlite3_vfs *v, void *lib, const char *sym))(void)
{
    sqlite3_vfs *os = sqlite3_vfs_find(NULL);

    (void)v;
    return os ? os->xDlSym(os, lib, sym) : NULL;
}

static void x_dlclose(sqlite3_vfs *v, void *lib)
{
    sqlite3_vfs *os = sqlite3_vfs_find(NULL);

    (void)v;
    if (os)
        os->xDlClose(os, lib);
}

/* splitmix64: the same bytes for the same seed, on every machine. */
static int x_randomness(sqlite3_vfs *v, int n, char *out)
{
    struct memvfs *m = of(v);
    uint64_t z = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (i % 8 == 0) {
            z = (m->random += UINT64_C(0x9E3779B97F4A7C15));
            z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
            z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
            z ^= z >> 31;
        }
        out[i] = (char)(z >> (8 * (i % 8)));
    }
    return n;
}

/* Nobody else runs while the replay waits: a lock held now is held for good. */
static int x_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return us;
}

static int x_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    *out = of(v)->clock_ms;
    return SQLITE_OK;
}

static int x_time(sqlite3_vfs *v, double *out)
{
    *out = (double)of(v)->clock_ms / 86400000.0;
    return SQLITE_OK;
}

static int x_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    (void)n;
    (void)out;
    return 0;
}

int memvfs_open(struct memvfs *m, const char *name, int64_t clock_ms, uint64_t seed)
{
    int rc;

    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->clock_ms = clock_ms + UNIX_EPOCH_JD_MS;
    m->random = seed;
    m->vfs.iVersion = 2;
    m->vfs.szOsFile = (int)sizeof(struct handle);
    m->vfs.mxPathname = 512;
    m->vfs.zName = m->name;
    m->vfs.pAppData = m;
    m->vfs.xOpen = x_open;
    m->vfs.xDelete = x_delete;
    m->vfs.xAccess = x_access;
    m->vfs.xFullPathname = x_full_pathname;
    m->vfs.xDlOpen = x_dlopen;
    m->vfs.xDlError = x_dlerror;
    m->vfs.xDlSym = x_dlsym;
    m->vfs.xDlClose = x_dlclose;
    m->vfs.xRandomness = x_randomness;
    m->vfs.xSleep = x_sleep;
    m->vfs.xCurrentTime = x_time;
    m->vfs.xGetLastError = x_last_error;
    m->vfs.xCurrentTimeInt64 = x_time64;
    rc = sqlite3_vfs_register(&m->vfs, 0);
    m->registered = rc == SQLITE_OK;
    return rc;
}

void memvfs_close(struct memvfs *m)
{
    struct memvfs_file *f;

    if (m->registered)
        sqlite3_vfs_unregister(&m->vfs);
    m->registered = 0;
    while ((f = m->files) != NULL) {
        m->files = f->next;
        free_file(f);
    }
}
