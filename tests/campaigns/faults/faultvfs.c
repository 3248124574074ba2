/*
** faultvfs.c — see faultvfs.h. Each file opened through this VFS is a
** struct fv_file followed by the real VFS's own file object, in the one
** block of szOsFile bytes that SQLite allocates; every method counts the
** call, perhaps fails it, and otherwise passes it to the real file.
*/
#include "faultvfs.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct fv_file {
    sqlite3_file base;
    sqlite3_file *real; /* points just after this struct */
    const char *kind;   /* "db", "journal", "wal", ... for faultvfs_first() */
};

/* Keeps the real file object aligned for any type it may hold. */
union fv_slot {
    struct fv_file f;
    long double ld;
    void *p;
    sqlite3_int64 i;
};

static struct {
    sqlite3_vfs vfs;
    sqlite3_vfs *parent;
    unsigned long calls[FV_NCLASS];
    int armed, cls, persistent, busy, fast_sleep;
    unsigned long at, injected;
    int unlock_failed;
    char first[64];
} S;

static const char *const class_names[FV_NCLASS] = { "write", "sync", "lock", "map", "all" };

const char *faultvfs_class_name(int cls)
{
    return cls >= 0 && cls < FV_NCLASS ? class_names[cls] : "?";
}

/*
** Count a call of class cls; 1 if it must fail. The k-th call fails in
** either mode; a persistent fault fails every later one as well.
*/
static int hit(int cls, const char *method, const char *kind)
{
    unsigned long n = ++S.calls[cls];
    unsigned long all = ++S.calls[FV_ALL];
    int fail;

    if (!S.armed || (S.cls != FV_ALL && S.cls != cls))
        return 0;
    if (S.cls == FV_ALL)
        n = all;
    fail = n == S.at || (S.persistent && n > S.at);
    if (fail && S.injected++ == 0)
        snprintf(S.first, sizeof S.first, "%s(%s)", method, kind);
    /* The real VFS keeps a lock whose release failed: so does this one. */
    if (fail && strstr(method, "Unlock"))
        S.unlock_failed = 1;
    return fail;
}

static sqlite3_file *real(sqlite3_file *f)
{
    return ((struct fv_file *)f)->real;
}

/* ---- file methods -------------------------------------------------------- */

static int fv_close(sqlite3_file *f)
{
    sqlite3_file *r = real(f);
    return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}

static int fv_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xRead(r, buf, n, off);
}

static int fv_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    sqlite3_file *r = real(f);
    if (hit(FV_WRITE, "xWrite", ((struct fv_file *)f)->kind))
        return SQLITE_IOERR_WRITE;
    return r->pMethods->xWrite(r, buf, n, off);
}

static int fv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    sqlite3_file *r = real(f);
    if (hit(FV_WRITE, "xTruncate", ((struct fv_file *)f)->kind))
        return SQLITE_IOERR_TRUNCATE;
    return r->pMethods->xTruncate(r, size);
}

static int fv_sync(sqlite3_file *f, int flags)
{
    sqlite3_file *r = real(f);
    if (hit(FV_SYNC, "xSync", ((struct fv_file *)f)->kind))
        return SQLITE_IOERR_FSYNC;
    return r->pMethods->xSync(r, flags);
}

static int fv_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xFileSize(r, size);
}

static int fv_lock(sqlite3_file *f, int level)
{
    sqlite3_file *r = real(f);
    if (hit(FV_LOCK, "xLock", ((struct fv_file *)f)->kind))
        return S.busy ? SQLITE_BUSY : SQLITE_IOERR_LOCK;
    return r->pMethods->xLock(r, level);
}

static int fv_unlock(sqlite3_file *f, int level)
{
    sqlite3_file *r = real(f);
    if (hit(FV_LOCK, "xUnlock", ((struct fv_file *)f)->kind))
        return SQLITE_IOERR_UNLOCK;
    return r->pMethods->xUnlock(r, level);
}

static int fv_check_reserved(sqlite3_file *f, int *out)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xCheckReservedLock(r, out);
}

static int fv_file_control(sqlite3_file *f, int op, void *arg)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xFileControl(r, op, arg);
}

static int fv_sector_size(sqlite3_file *f)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xSectorSize(r);
}

static int fv_device_characteristics(sqlite3_file *f)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xDeviceCharacteristics(r);
}

static int fv_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **pp)
{
    sqlite3_file *r = real(f);
    if (hit(FV_MAP, "xShmMap", "shm"))
        return SQLITE_IOERR_SHMMAP;
    return r->pMethods->xShmMap(r, page, size, extend, pp);
}

static int fv_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    sqlite3_file *r = real(f);
    if (hit(FV_LOCK, flags & SQLITE_SHM_UNLOCK ? "xShmUnlock" : "xShmLock", "shm"))
        return SQLITE_BUSY;
    return r->pMethods->xShmLock(r, offset, n, flags);
}

static void fv_shm_barrier(sqlite3_file *f)
{
    sqlite3_file *r = real(f);
    r->pMethods->xShmBarrier(r);
}

static int fv_shm_unmap(sqlite3_file *f, int delete_flag)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xShmUnmap(r, delete_flag);
}

static int fv_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xFetch(r, off, n, pp);
}

static int fv_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    sqlite3_file *r = real(f);
    return r->pMethods->xUnfetch(r, off, p);
}

/* Version 3 methods; fv_open() only hands them out over a version 3 file. */
static const sqlite3_io_methods fv_methods = {
    3,
    fv_close,
    fv_read,
    fv_write,
    fv_truncate,
    fv_sync,
    fv_file_size,
    fv_lock,
    fv_unlock,
    fv_check_reserved,
    fv_file_control,
    fv_sector_size,
    fv_device_characteristics,
    fv_shm_map,
    fv_shm_lock,
    fv_shm_barrier,
    fv_shm_unmap,
    fv_fetch,
    fv_unfetch,
};

/* ---- VFS methods --------------------------------------------------------- */

static const char *kind_of(int flags)
{
    if (flags & SQLITE_OPEN_MAIN_DB)
        return "db";
    if (flags & SQLITE_OPEN_MAIN_JOURNAL)
        return "journal";
    if (flags & SQLITE_OPEN_WAL)
        return "wal";
    if (flags & SQLITE_OPEN_SUPER_JOURNAL)
        return "super-journal";
    if (flags & SQLITE_OPEN_SUBJOURNAL)
        return "subjournal";
    return "temp";
}

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    struct fv_file *f = (struct fv_file *)file;
    int rc;

    (void)vfs;
    f->real = (sqlite3_file *)((char *)file + sizeof(union fv_slot));
    f->kind = kind_of(flags);
    rc = S.parent->xOpen(S.parent, name, f->real, flags, out_flags);
    /* SQLite calls xClose whenever pMethods is set, even after a failed open. */
    if (f->real->pMethods && f->real->pMethods->iVersion < 3) {
        f->real->pMethods->xClose(f->real);
        f->real->pMethods = NULL;
        rc = SQLITE_CANTOPEN;
    }
    f->base.pMethods = f->real->pMethods ? &fv_methods : NULL;
    return rc;
}

/* What xDelete removes, from SQLite's suffixes. */
static const char *kind_of_name(const char *name)
{
    size_t n = strlen(name);
    if (n > 8 && strcmp(name + n - 8, "-journal") == 0)
        return "journal";
    if (n > 4 && strcmp(name + n - 4, "-wal") == 0)
        return "wal";
    return "file";
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    if (hit(FV_WRITE, "xDelete", kind_of_name(name)))
        return SQLITE_IOERR_DELETE;
    return S.parent->xDelete(S.parent, name, sync_dir);
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return S.parent->xAccess(S.parent, name, flags, out);
}

static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return S.parent->xFullPathname(S.parent, name, n, out);
}

static void *fv_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return S.parent->xDlOpen(S.parent, name);
}

static void fv_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
    (void)vfs;
    S.parent->xDlError(S.parent, n, msg);
}

static void (*fv_dlsym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
    (void)vfs;
    return S.parent->xDlSym(S.parent, handle, sym);
}

static void fv_dlclose(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    S.parent->xDlClose(S.parent, handle);
}

static int fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return S.parent->xRandomness(S.parent, n, out);
}

static int fv_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return S.fast_sleep ? us : S.parent->xSleep(S.parent, us);
}

static int fv_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return S.parent->xCurrentTime(S.parent, out);
}

static int fv_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return S.parent->xGetLastError ? S.parent->xGetLastError(S.parent, n, out) : 0;
}

static int fv_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return S.parent->xCurrentTimeInt64(S.parent, out);
}

int faultvfs_register(const char *name)
{
    sqlite3_vfs *parent = sqlite3_vfs_find(NULL);

    if (!parent || parent->iVersion < 2)
        return SQLITE_ERROR;
    if (S.parent)
        return SQLITE_MISUSE; /* once per process */
    S.parent = parent;
    S.vfs.iVersion = 2; /* no xSetSystemCall: nothing here needs it */
    S.vfs.szOsFile = (int)sizeof(union fv_slot) + parent->szOsFile;
    S.vfs.mxPathname = parent->mxPathname;
    S.vfs.zName = name;
    S.vfs.xOpen = fv_open;
    S.vfs.xDelete = fv_delete;
    S.vfs.xAccess = fv_access;
    S.vfs.xFullPathname = fv_full_pathname;
    S.vfs.xDlOpen = fv_dlopen;
    S.vfs.xDlError = fv_dlerror;
    S.vfs.xDlSym = fv_dlsym;
    S.vfs.xDlClose = fv_dlclose;
    S.vfs.xRandomness = fv_randomness;
    S.vfs.xSleep = fv_sleep;
    S.vfs.xCurrentTime = fv_current_time;
    S.vfs.xGetLastError = fv_get_last_error;
    S.vfs.xCurrentTimeInt64 = fv_current_time_int64;
    return sqlite3_vfs_register(&S.vfs, 0);
}

void faultvfs_reset(void)
{
    memset(S.calls, 0, sizeof S.calls);
    S.armed = 0;
    S.injected = 0;
    S.unlock_failed = 0;
    S.first[0] = '\0';
}

void faultvfs_arm(int cls, unsigned long k, int persistent)
{
    S.cls = cls;
    S.at = k;
    S.persistent = persistent;
    S.armed = 1;
}

void faultvfs_heal(void)
{
    S.armed = 0;
}

void faultvfs_busy(int on)
{
    S.busy = on;
}

void faultvfs_fast_sleep(int on)
{
    S.fast_sleep = on;
}

unsigned long faultvfs_calls(int cls)
{
    return cls >= 0 && cls < FV_NCLASS ? S.calls[cls] : 0;
}

unsigned long faultvfs_injected(void)
{
    return S.injected;
}

int faultvfs_unlock_failed(void)
{
    return S.unlock_failed;
}

const char *faultvfs_first(void)
{
    return S.first;
}
