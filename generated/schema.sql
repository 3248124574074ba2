-- The schema that migrations/ reaches, as replayed by sqlmig compile. Do not edit.

CREATE TABLE tasks (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title      TEXT NOT NULL CHECK (length(title) > 0),
    notes      TEXT NOT NULL DEFAULT '',
    done       INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
, updated_at TEXT, due_on TEXT
    CHECK (due_on IS NULL OR due_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'));

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE task_tags (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, tag_id)
) WITHOUT ROWID;

CREATE TABLE "projects" (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    slug        TEXT NOT NULL UNIQUE
                CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*'),
    description TEXT NOT NULL DEFAULT '',
    archived_at TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    body       TEXT NOT NULL CHECK (length(trim(body)) > 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE INDEX task_tags_tag ON task_tags (tag_id);

CREATE INDEX tasks_project_done ON tasks (project_id, done);

CREATE TRIGGER tasks_insert_updated_at
AFTER INSERT ON tasks
FOR EACH ROW WHEN NEW.updated_at IS NULL
BEGIN
    UPDATE tasks SET updated_at = NEW.created_at WHERE id = NEW.id;
END;

CREATE TRIGGER tasks_touch_updated_at
AFTER UPDATE ON tasks
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE tasks
       SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
     WHERE id = NEW.id;
END;

CREATE UNIQUE INDEX projects_name ON projects (name COLLATE NOCASE);

CREATE VIEW project_summary AS
SELECT p.id                                  AS project_id,
       p.name                                AS name,
       p.slug                                AS slug,
       p.archived_at IS NOT NULL             AS archived,
       count(t.id)                           AS total_tasks,
       count(t.id) FILTER (WHERE t.done = 0) AS open_tasks,
       max(t.updated_at)                     AS last_activity
  FROM projects AS p
  LEFT JOIN tasks AS t ON t.project_id = p.id
 GROUP BY p.id;

CREATE INDEX tasks_open_due ON tasks (due_on) WHERE done = 0 AND due_on IS NOT NULL;

CREATE INDEX comments_task ON comments (task_id, created_at);

CREATE TRIGGER comments_touch_task
AFTER INSERT ON comments
FOR EACH ROW
BEGIN
    UPDATE tasks SET updated_at = NEW.created_at WHERE id = NEW.task_id;
END;

