/*
** new.h — `sqlmig new DIR NAME`: the next migration of a folder, named and
** numbered as the folder's own tool would, from a template the build reads.
*/
#ifndef SQLMIG_NEW_H
#define SQLMIG_NEW_H

/*
** The statement each template holds where the migration goes: the build
** accepts it (an empty plain migration is an error) and warns, at its line,
** while it is still there.
*/
#define NEW_PLACEHOLDER "SELECT 'replace this statement with the migration';"

/* The arguments after `new`; returns the exit status (0, 1, or 2 for usage). */
int new_command(int argc, char **argv);

#endif
