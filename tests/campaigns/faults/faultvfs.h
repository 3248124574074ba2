/*
** faultvfs.h — a SQLite VFS that wraps the default one, counts the calls
** that change or lock files, and fails the k-th call of a chosen class with
** the error code the real unix VFS returns for that call.
**
** Classes of counted calls (across every file: database, journal, WAL, shm):
**   FV_WRITE  xWrite (SQLITE_IOERR_WRITE), xTruncate (SQLITE_IOERR_TRUNCATE),
**             xDelete (SQLITE_IOERR_DELETE: in journal_mode=DELETE the
**             journal's deletion is the commit point)
**   FV_SYNC   xSync (SQLITE_IOERR_FSYNC)
**   FV_LOCK   xLock (SQLITE_IOERR_LOCK, or SQLITE_BUSY with faultvfs_busy()),
**             xUnlock (SQLITE_IOERR_UNLOCK), xShmLock (SQLITE_BUSY: what the
**             unix VFS returns for any failed shm lock, lock or unlock); a
**             failed unlock keeps the lock, as the unix VFS does
**   FV_MAP    xShmMap (SQLITE_IOERR_SHMMAP; WAL only)
** FV_ALL counts all of them on one counter.
**
** Reads, xFileSize, xCheckReservedLock, xOpen and xAccess are passed through
** uncounted. The state is global: the tests are single-threaded.
*/
#ifndef SQLMIG_FAULTVFS_H
#define SQLMIG_FAULTVFS_H

#include <sqlite3.h>

enum fv_class { FV_WRITE, FV_SYNC, FV_LOCK, FV_MAP, FV_ALL, FV_NCLASS };

/* Register the VFS under `name` (not as the default); SQLITE_OK or a code. */
int faultvfs_register(const char *name);

/* Zero every counter and disarm. */
void faultvfs_reset(void);

/*
** From now on, fail call number k (1-based, counted from the last reset) of
** class cls; when persistent, every later call of that class fails too,
** until faultvfs_heal().
*/
void faultvfs_arm(int cls, unsigned long k, int persistent);

/* Stop failing; counters keep counting. */
void faultvfs_heal(void);

/* xLock fails with SQLITE_BUSY (a lock held elsewhere) instead of an I/O error. */
void faultvfs_busy(int on);

/* xSleep returns at once, as if it had slept (keeps busy waits short). */
void faultvfs_fast_sleep(int on);

/* Calls of a class since the last reset (FV_ALL: of every class). */
unsigned long faultvfs_calls(int cls);

/* Faults injected since the last reset. */
unsigned long faultvfs_injected(void);

/*
** 1 if an xUnlock or a shm unlock failed since the last reset. Like the unix
** VFS, this one then keeps the lock: only closing the connection releases it.
*/
int faultvfs_unlock_failed(void);

/* The first fault injected since the last reset, as "xSync(journal)", or "". */
const char *faultvfs_first(void);

/* "write", "sync", "lock", "map", "all". */
const char *faultvfs_class_name(int cls);

#endif
