-- Track when a task last changed, for the "recently edited" list. Existing
-- tasks are backfilled with their creation time; triggers keep the column
-- current so that no caller has to remember to set it.
ALTER TABLE tasks ADD COLUMN updated_at TEXT;

UPDATE tasks SET updated_at = created_at WHERE updated_at IS NULL;

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
