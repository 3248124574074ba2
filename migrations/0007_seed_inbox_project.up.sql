-- Every installation gets an "Inbox" project, where quick-capture puts new
-- tasks. A database that already has a project of that name keeps it.
INSERT INTO projects (name, description)
SELECT 'Inbox',
       'Quick capture -- new tasks land here. Where does it belong? Triage weekly /* then move it */.'
 WHERE NOT EXISTS (SELECT 1 FROM projects WHERE name = 'Inbox' COLLATE NOCASE);
