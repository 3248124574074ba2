/*
** model.h — what `sqlmig compile` knows about a migrations folder once it is
** read: the migrations in version order and the final schema of the replay.
** Every string is heap-allocated and owned by the struct that holds it;
** sqlmig_tool_free_* release them.
*/
#ifndef SQLMIG_MODEL_H
#define SQLMIG_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* One migration file (or up/down pair) as read from the folder. */
struct tool_migration {
    int64_t version;
    char *name;          /* "create_users" */
    char *file;          /* "0001_create_users.sql": name inside the folder */
    char *path;          /* "DIR/0001_create_users.sql": for diagnostics */
    char *up;            /* the up-SQL bytes, exactly as in the file */
    size_t up_len;
    unsigned up_line;    /* line of the file on which `up` starts (1) */
    char *down_file;     /* NULL when there is no down part */
    char *down_path;
    char *down;
    size_t down_len;
    unsigned down_line;  /* line of down_file on which `down` starts */
    char checksum[65];   /* SHA-256 of `up` with CRLF read as LF, hex */
    char toolsum[100];   /* the layout's own tool's checksum of the file (toolsum.h), or "" */
    unsigned flags;      /* SQLMIG_NO_TRANSACTION, SQLMIG_ATTACH, SQLMIG_WRAPPED */
    int statements;      /* the up-SQL has a statement, not only comments */
    int reshapes;        /* its text drops or alters something (scan.h) */
};

/* One change of the schema that a step of the replay made (struct sqlmig_change). */
struct tool_change {
    size_t step;
    char *type;
    char *name;
    uint64_t fp;         /* 0: dropped */
};

/* One row of sqlite_schema after the replay. */
struct tool_object {
    char *type;
    char *name;
    char *sql;
};

/* Everything compile reads and computes. */
struct tool_folder {
    char *dir;                        /* the folder as given */
    int layout;                       /* enum scan_layout (scan.h) */
    char *layout_why;                 /* how it was recognised */
    const char *layout_label;         /* its name ("sqlx"; static), or NULL */
    struct tool_migration *items;     /* sorted by version */
    size_t count;
    struct tool_migration *repeatables; /* Flyway's R__ files: version 0, sorted by name */
    size_t repeatable_count;
    char **inputs;                    /* every file read, for the depfile */
    size_t input_count;
    size_t reversible;                /* down parts proven to undo their up parts */
    struct tool_change *changes;      /* the schema at every step, sorted by step */
    size_t change_count;
    struct tool_object *objects;      /* sorted by (type, name), byte order */
    size_t object_count;
    char *schema_sql;                 /* schema.sql text: creation order */
    size_t schema_len;
    char *snapshot;                   /* SQL recreating the final state, or NULL */
    size_t snapshot_len;
    char *snapshot_note;              /* why there is no snapshot, or NULL */
    unsigned snapshot_auto_vacuum;    /* file settings the history leaves: see */
                                      /* struct sqlmig_set in sqlmig.h */
    unsigned snapshot_wal;
    const char *const *extensions;    /* --load-extension FILE[:ENTRY]: the FILEs, and */
    const char *const *extension_entries; /* the ENTRYs (NULL: SQLite's default name), */
    size_t extension_count;           /* loaded into every connection of the replays */
    const char *const *placeholders;  /* --placeholder NAME=VALUE (Flyway) */
    size_t placeholder_count;
};

void tool_folder_free(struct tool_folder *f);

#endif
