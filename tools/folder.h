/*
** folder.h — read a migrations folder into a struct tool_folder: list the
** directory, classify each name, pair up/down files, read and checksum every
** migration, and reject what is malformed.
*/
#ifndef SQLMIG_FOLDER_H
#define SQLMIG_FOLDER_H

#include "model.h"

/*
** Fill `f` from the folder `dir`. Every problem is printed as a diagnostic
** naming the file (and line and column when the problem is inside it); the
** return value is the number of problems, 0 on success. `f` must be zeroed
** before, and is released with tool_folder_free() in every case.
*/
int folder_read(const char *dir, struct tool_folder *f);

#endif
