INSERT INTO items (title) VALUES ('first item');
