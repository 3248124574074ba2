/*
** dangling.h — after each migration of the replay, the references it left
** pointing at nothing: a foreign key to a table or column that does not
** exist, a view or a trigger that names one. SQLite accepts all of these
** (foreign_key_check cannot see a missing parent while the child table is
** empty, and DROP TABLE leaves views and triggers that name it), and ALTER
** TABLE ... RENAME rewrites references in ways authors do not expect. Each is
** printed once as `file:line:col: warning:`, at the first place the migration
** names what is missing.
*/
#ifndef SQLMIG_DANGLING_H
#define SQLMIG_DANGLING_H

#include "model.h"

#include <sqlite3.h>

struct dangling;

/* NULL when out of memory. */
struct dangling *dangling_new(const struct tool_folder *f);

/*
** Look at what migration m changed in the schema of conn's main database
** (inside its transaction: nothing is run, only prepared) and warn of every
** reference it left dangling. Cheap when m created nothing, and looks only
** at new objects unless m drops or alters something.
*/
void dangling_check(struct dangling *d, sqlite3 *conn, const struct tool_migration *m);

void dangling_free(struct dangling *d);

#endif
