-- Projects group tasks. Names are unique regardless of case, so "Home" and
-- "home" cannot both exist.
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE UNIQUE INDEX projects_name ON projects (name COLLATE NOCASE);
