/*
** spawn.h — run a command from a TAP test and wait for it. The tests that
** build generated C (test_roundtrip.c, fuzz/prop_bytes.c) run the compiler
** and the program it built this way. Needs _POSIX_C_SOURCE 200809L.
*/
#ifndef SQLMIG_SPAWN_H
#define SQLMIG_SPAWN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
** Run argv (argv[0] looked up in PATH) and return its exit status, or -1 if
** it could not run or died of a signal. TAP is on stdout, so the command's
** stdout goes to stderr; `quiet` sends both to /dev/null instead.
*/
static inline int spawn_wait(char **argv, int quiet)
{
    pid_t pid;
    int status, fd;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (dup2(2, 1) < 0)
            _exit(127);
        if (quiet) {
            fd = open("/dev/null", O_WRONLY);
            if (fd >= 0 && (dup2(fd, 1) < 0 || dup2(fd, 2) < 0))
                _exit(127);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
