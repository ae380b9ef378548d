// C helpers that Swift cannot write safely: spawning a child between fork and exec.
#ifndef RNNODE_CSUPPORT_H
#define RNNODE_CSUPPORT_H
#include <sys/types.h>

/// Spawns `path` (an absolute path) with `argv` and `envp` in a process group of its own, under a small reaper
/// process that stops the whole group when the caller dies (even by SIGKILL): the reaper has PR_SET_PDEATHSIG set,
/// sends `stop_signal` (SIGTERM, or SIGINT for a program that saves its state on Ctrl-C) to the group, then SIGKILL
/// after `grace_seconds`. The program starts with every signal at its
/// default disposition and none blocked. `in_fd`, `out_fd`, `err_fd` become its stdin, stdout, stderr (−1: /dev/null).
/// Returns the reaper's pid (the group id; its exit status is the program's, a signal re-raised), or −errno.
pid_t rn_spawn_guarded(const char *path, char *const argv[], char *const envp[],
                       int in_fd, int out_fd, int err_fd, int stop_signal, unsigned grace_seconds);

#endif
