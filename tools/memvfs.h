/*
** memvfs.h — a SQLite VFS that keeps every file in memory, for the replays
** of `sqlmig compile`.
**
** Files are found by name, so that several connections of the process (the
** tool's, and the runtime's own, which it opens by the file's name through
** the same VFS) share one database, with SQLite's locks and a WAL index
** between them. No file of the machine is ever opened: an ATTACH or a
** VACUUM INTO in a migration gets a file of this VFS. The only exception
** is a shared library named in `libraries`, for the application's SQL
** functions. Each instance has its
** own clock and random bytes, which make one replay's conditions. One
** thread at a time.
*/
#ifndef SQLMIG_MEMVFS_H
#define SQLMIG_MEMVFS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct memvfs_file;

struct memvfs {
    sqlite3_vfs vfs;        /* registered under `name` */
    char name[32];
    int64_t clock_ms;       /* what xCurrentTimeInt64 says: a Julian day number in ms */
    uint64_t random;        /* state of xRandomness */
    struct memvfs_file *files;
    int registered;
    /* The shared libraries that sqlite3_load_extension() may open through
    ** it: the ones given to `sqlmig compile --load-extension`, no other. */
    const char *const *libraries;
    size_t library_count;
};

/*
** Register a new VFS of that name (not the default). `clock_ms` is the
** instant every 'now' of it reads, in Unix milliseconds; `seed` starts its
** random bytes. SQLITE_OK or SQLite's error.
*/
int memvfs_open(struct memvfs *m, const char *name, int64_t clock_ms, uint64_t seed);

/* Unregister it and free every file. Every connection must be closed. */
void memvfs_close(struct memvfs *m);

#endif
