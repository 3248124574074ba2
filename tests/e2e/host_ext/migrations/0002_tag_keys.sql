CREATE VIEW tag_keys AS SELECT normalize(name) AS key FROM tags;
