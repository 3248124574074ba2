-- One row per project with its task counts, for the sidebar. A view keeps
-- the aggregation in one place instead of in every query that needs it.
CREATE VIEW project_summary AS
SELECT p.id                                  AS project_id,
       p.name                                AS name,
       count(t.id)                           AS total_tasks,
       count(t.id) FILTER (WHERE t.done = 0) AS open_tasks,
       max(t.updated_at)                     AS last_activity
  FROM projects AS p
  LEFT JOIN tasks AS t ON t.project_id = p.id
 GROUP BY p.id;
