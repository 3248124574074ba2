-- Optional due dates (YYYY-MM-DD). The partial index covers only what the
-- "due soon" list asks for: open tasks that have a date.
ALTER TABLE tasks ADD COLUMN due_on TEXT
    CHECK (due_on IS NULL OR due_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]');

CREATE INDEX tasks_open_due ON tasks (due_on) WHERE done = 0 AND due_on IS NOT NULL;
