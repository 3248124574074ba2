-- Remove the seeded Inbox again, but only while it is still empty.
DELETE FROM projects
 WHERE name = 'Inbox'
   AND NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.project_id = projects.id);
