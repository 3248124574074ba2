-- The project page lists open tasks with WHERE project_id = ? AND done = 0,
-- which scanned the whole table; the index also serves ON DELETE CASCADE
-- when a project is deleted.
CREATE INDEX tasks_project_done ON tasks (project_id, done);
