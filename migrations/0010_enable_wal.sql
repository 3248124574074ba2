-- sqlmig:no-transaction
-- Switch to write-ahead logging so the sync worker can read while the UI
-- writes. journal_mode cannot change inside a transaction, hence the
-- directive above. The setting is stored in the database file and persists.
PRAGMA journal_mode = WAL;
