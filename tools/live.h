/*
** live.h — the `sqlmig` commands over a live database (status, up, down,
** verify, adopt, resolve, repair, and reset for development), each through the runtime's own function
** on a set built in memory from the migrations folder.
*/
#ifndef SQLMIG_LIVE_H
#define SQLMIG_LIVE_H

/*
** Run `command` with its arguments (after the command's name): DB, --dir,
** --table and the reading options of compile here, the rest through
** sqlmig_main(), so that a host's `app migrate ...` prints what this does.
** Returns the exit status: 0 done, 1 the database, the folder or the
** runtime refused (the SQLMIG_ code is printed), 2 a usage error.
*/
int live_command(const char *command, int argc, char **argv);

/* Is `command` one of them? */
int live_is_command(const char *command);

#endif
