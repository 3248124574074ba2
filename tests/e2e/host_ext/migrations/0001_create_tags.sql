CREATE TABLE tags (
    name TEXT NOT NULL UNIQUE CHECK (name = normalize(name))
);
INSERT INTO tags (name) VALUES (normalize('  Urgent ')), (normalize('Later'));
