/*
** folder.h — read a migrations folder into a struct tool_folder: list the
** directory, recognise its layout, classify each entry, pair up and down
** parts, read and checksum every migration, and reject what is malformed.
*/
#ifndef SQLMIG_FOLDER_H
#define SQLMIG_FOLDER_H

#include "model.h"

/*
** Fill `f` from the folder `dir`, read in `layout` (an enum scan_layout;
** LAYOUT_COUNT: recognise it). Every problem is printed as a diagnostic
** naming the file (and line and column when the problem is inside it),
** sorted by file, a problem repeated in several files once with the count
** (with `errors_only`, warnings and notes are left unsaid);
** the return value is the number of errors, 0 on success. `f` must be
** zeroed before, and is released with tool_folder_free() in every case.
*/
int folder_read(const char *dir, int layout, int errors_only, struct tool_folder *f);

#endif
