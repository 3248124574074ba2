-- Comments on tasks. Adding a comment counts as activity on the task, so a
-- trigger moves the task's updated_at forward.
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    body       TEXT NOT NULL CHECK (length(trim(body)) > 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE INDEX comments_task ON comments (task_id, created_at);

CREATE TRIGGER comments_touch_task
AFTER INSERT ON comments
FOR EACH ROW
BEGIN
    UPDATE tasks SET updated_at = NEW.created_at WHERE id = NEW.task_id;
END;
