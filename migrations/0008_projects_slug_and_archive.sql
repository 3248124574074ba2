-- Projects get a URL slug (NOT NULL UNIQUE, which ALTER TABLE ADD COLUMN
-- cannot add) and an archived_at time, so projects rebuilds its table with
-- SQLite's 12-step procedure. Tasks point at projects with ON DELETE CASCADE:
-- the runtime turns foreign_keys off around this migration, so DROP TABLE
-- does not delete them. Slugs come from the name; a name that gives no
-- usable slug gets "project-<id>", and duplicates get "-<id>" appended.
DROP VIEW project_summary;

CREATE TABLE new_projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    slug        TEXT NOT NULL UNIQUE
                CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*'),
    description TEXT NOT NULL DEFAULT '',
    archived_at TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

INSERT INTO new_projects (id, name, slug, description, archived_at, created_at)
WITH base AS (
    SELECT id,
           CASE WHEN s <> '' AND s NOT GLOB '*[^a-z0-9-]*' THEN s
                ELSE 'project-' || id
           END AS slug
      FROM (SELECT id, lower(replace(trim(name), ' ', '-')) AS s FROM projects)
)
SELECT p.id,
       p.name,
       CASE WHEN count(*) OVER (PARTITION BY b.slug) > 1 THEN b.slug || '-' || p.id
            ELSE b.slug
       END,
       p.description,
       NULL,
       p.created_at
  FROM projects AS p
  JOIN base AS b ON b.id = p.id;

DROP TABLE projects;

ALTER TABLE new_projects RENAME TO projects;

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
