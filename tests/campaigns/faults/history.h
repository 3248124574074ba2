/*
** history.h — the schema history the fault tests apply: 16 migrations of a
** small task tracker, with data migrations (one driven by a trigger), a
** unique and a partial index, a trigger, a view, a WITHOUT ROWID table, the
** 12-step rebuild of a table, ADD and DROP COLUMN, and one no-transaction
** migration (11) that archives rows and runs VACUUM. Written by hand as
** `sqlmig compile` would embed it; checksums are arbitrary but distinct.
**
** Migration 11 is idempotent, statement by statement, so running it again
** after an interruption (SQLMIG_RESOLVE_RETRY) is always right.
*/
#ifndef SQLMIG_FAULTS_HISTORY_H
#define SQLMIG_FAULTS_HISTORY_H

#include "sqlmig.h"

#define H_CK(d) d d d d d d d d d d d d d d d d /* 16 x 4 hex digits */
#define H_MIG(v, name, file, sql, ck, flags) { v, name, file, sql, sizeof sql - 1, 1, NULL, 0, H_CK(ck), flags, NULL, 0 }

#define H01 "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, created TEXT);\n"
#define H02 "CREATE TABLE projects(id INTEGER PRIMARY KEY,\n"                                           \
            "    owner INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, title TEXT NOT NULL);\n"
#define H03 "-- 400 users: several pages of data\n"                                                     \
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)\n"           \
            "INSERT INTO users(id, email, name, created)\n"                                             \
            "    SELECT i, 'User' || i || '@Example.org', 'User number ' || i,\n"                       \
            "           printf('2023-%02d-%02d', i % 12 + 1, i % 28 + 1) FROM n;\n"
#define H04 "CREATE UNIQUE INDEX users_email ON users(email);\n"
#define H05 "CREATE TABLE tasks(id INTEGER PRIMARY KEY,\n"                                              \
            "    project INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,\n"                 \
            "    title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);\n"
#define H06 "INSERT INTO projects(id, owner, title) SELECT id, id, 'Project of ' || name FROM users WHERE id % 4 = 0;\n" \
            "INSERT INTO tasks(project, title)\n"                                                       \
            "    SELECT p.id, 'Task ' || p.id || '.' || k.k\n"                                          \
            "    FROM projects p, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) k ORDER BY p.id, k.k;\n"
#define H07 "CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);\n"          \
            "CREATE TRIGGER tasks_done AFTER UPDATE OF done ON tasks WHEN new.done = 1 AND old.done = 0\n" \
            "BEGIN\n"                                                                                   \
            "    INSERT INTO audit(what) VALUES('task ' || new.id || ' done');\n"                       \
            "END;\n"
#define H08 "UPDATE tasks SET done = 1 WHERE id % 3 = 0;\n"
/* SQLite's 12-step rebuild; foreign keys are off, so projects keep their rows. */
#define H09 "CREATE TABLE users_new(id INTEGER PRIMARY KEY, email TEXT NOT NULL COLLATE NOCASE,\n"      \
            "    name TEXT NOT NULL DEFAULT '', created TEXT NOT NULL DEFAULT '1970-01-01');\n"         \
            "INSERT INTO users_new(id, email, name, created)\n"                                         \
            "    SELECT id, lower(email), ifnull(name, ''), ifnull(created, '1970-01-01') FROM users;\n" \
            "DROP TABLE users;\n"                                                                       \
            "ALTER TABLE users_new RENAME TO users;\n"                                                  \
            "CREATE UNIQUE INDEX users_email ON users(email);\n"
#define H10 "CREATE TABLE events(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL);\n"      \
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)\n"           \
            "INSERT INTO events(id, kind, at)\n"                                                        \
            "    SELECT i, CASE i % 3 WHEN 0 THEN 'login' WHEN 1 THEN 'edit' ELSE 'share' END,\n"       \
            "           printf('%d-%02d-01', 2022 + i % 3, i % 12 + 1) FROM n;\n"
/* The statements of 11, one by one: the campaign replays them to know every
** state an interruption can leave. */
#define H11_HEAD "-- sqlmig:no-transaction\n-- archive the events before 2024, then give the space back\n"
#define H11_1 "CREATE TABLE IF NOT EXISTS events_archive(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL);\n"
#define H11_2 "INSERT OR IGNORE INTO events_archive SELECT id, kind, at FROM events WHERE at < '2024';\n"
#define H11_3 "DELETE FROM events WHERE at < '2024';\n"
#define H11_4 "VACUUM;\n"
#define H11 H11_HEAD H11_1 H11_2 H11_3 H11_4
#define H12 "ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;\n"
#define H13 "UPDATE tasks SET priority = 1 WHERE title LIKE '%.1';\n"                                  \
            "UPDATE tasks SET priority = 3 WHERE done = 1 AND priority = 2;\n"
#define H14 "CREATE INDEX tasks_open ON tasks(project, priority) WHERE done = 0;\n"
#define H15 "CREATE VIEW open_tasks AS\n"                                                               \
            "    SELECT t.id, t.title, p.title AS project, u.email AS owner\n"                          \
            "    FROM tasks t JOIN projects p ON p.id = t.project JOIN users u ON u.id = p.owner\n"     \
            "    WHERE t.done = 0;\n"                                                                   \
            "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;\n"         \
            "INSERT INTO settings VALUES('schema', 'v15'), ('archive_before', '2024');\n"
#define H16 "ALTER TABLE users DROP COLUMN created;\n"

#define H_NOTX_VERSION 11
#define H_COUNT 16

static const struct sqlmig_migration history[H_COUNT] = {
    H_MIG(1, "users", "0001_users.sql", H01, "a001", 0),
    H_MIG(2, "projects", "0002_projects.sql", H02, "a002", 0),
    H_MIG(3, "seed_users", "0003_seed_users.sql", H03, "a003", 0),
    H_MIG(4, "users_email", "0004_users_email.sql", H04, "a004", 0),
    H_MIG(5, "tasks", "0005_tasks.sql", H05, "a005", 0),
    H_MIG(6, "seed_projects", "0006_seed_projects.sql", H06, "a006", 0),
    H_MIG(7, "audit_trigger", "0007_audit_trigger.sql", H07, "a007", 0),
    H_MIG(8, "complete_tasks", "0008_complete_tasks.sql", H08, "a008", 0),
    H_MIG(9, "rebuild_users", "0009_rebuild_users.sql", H09, "a009", 0),
    H_MIG(10, "events", "0010_events.sql", H10, "a010", 0),
    H_MIG(11, "archive_events", "0011_archive_events.sql", H11, "a011", SQLMIG_NO_TRANSACTION),
    H_MIG(12, "priority", "0012_priority.sql", H12, "a012", 0),
    H_MIG(13, "backfill_priority", "0013_backfill_priority.sql", H13, "a013", 0),
    H_MIG(14, "tasks_open", "0014_tasks_open.sql", H14, "a014", 0),
    H_MIG(15, "views_settings", "0015_views_settings.sql", H15, "a015", 0),
    H_MIG(16, "drop_created", "0016_drop_created.sql", H16, "a016", 0),
};

/* The statements of migration 11, for replaying its partial states. */
static const char *const history_notx_steps[] = { H11_1, H11_2, H11_3, H11_4 };
#define H_NOTX_STEPS 4

#endif
