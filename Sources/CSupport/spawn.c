// A child process that dies with its parent: fork → reaper (own process group, parent-death signal) → program.
// Between fork and exec only async-signal-safe calls are made, so this is safe in a multithreaded process.
#define _GNU_SOURCE
#include "csupport.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static void reset_signals(void) {
    struct sigaction dfl = {0};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &dfl, 0);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
}

static unsigned reaper_grace;
static int reaper_stop_signal;

static void on_parent_death(int sig) {
    (void)sig;
    kill(0, reaper_stop_signal);   // the program (and what it started) may save its state; the reaper ignores it
    alarm(reaper_grace);
}

static void on_grace_over(int sig) {
    (void)sig;
    kill(0, SIGKILL);
}

static void redirect(int fd, int target, int flags) {
    if (fd == target) return;
    if (fd < 0) {
        fd = open("/dev/null", flags);
        if (fd < 0) _exit(127);
    }
    if (dup2(fd, target) < 0) _exit(127);
}

pid_t rn_spawn_guarded(const char *path, char *const argv[], char *const envp[],
                       int in_fd, int out_fd, int err_fd, int stop_signal, unsigned grace_seconds) {
    pid_t parent = getpid();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   // no handler of the caller runs in the forked copy
    pid_t reaper = fork();
    if (reaper != 0) {
        int saved = errno;
        if (reaper > 0) setpgid(reaper, reaper);  // also done in the child: whichever runs first wins the race
        pthread_sigmask(SIG_SETMASK, &old, 0);
        return reaper < 0 ? -saved : reaper;
    }

    // The reaper: leader of a new process group, told when the parent dies.
    setpgid(0, 0);
    reset_signals();
    sigprocmask(SIG_SETMASK, &all, 0);
    reaper_grace = grace_seconds > 0 ? grace_seconds : 1;
    reaper_stop_signal = stop_signal > 0 ? stop_signal : SIGTERM;
    if (prctl(PR_SET_PDEATHSIG, SIGHUP) != 0 || getppid() != parent) _exit(127);
    redirect(in_fd, 0, O_RDONLY);
    redirect(out_fd, 1, O_WRONLY);
    redirect(err_fd, 2, O_WRONLY);

    pid_t program = fork();
    if (program < 0) _exit(127);
    if (program == 0) {
        sigprocmask(SIG_SETMASK, &old, 0);
        reset_signals();
        execve(path, argv, envp);
        _exit(127);
    }

    struct sigaction act = {0};
    sigfillset(&act.sa_mask);
    act.sa_handler = on_parent_death;
    sigaction(SIGHUP, &act, 0);
    act.sa_handler = on_grace_over;
    sigaction(SIGALRM, &act, 0);
    act.sa_handler = SIG_IGN;
    sigaction(SIGTERM, &act, 0);
    sigaction(SIGINT, &act, 0);
    sigset_t waiting;
    sigemptyset(&waiting);
    sigprocmask(SIG_SETMASK, &waiting, 0);

    int status = 0;
    while (waitpid(program, &status, 0) < 0) {
        if (errno != EINTR) _exit(127);
    }
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    // Killed by a signal: die the same way, without a core file of the reaper's own.
    int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    reset_signals();
    kill(getpid(), sig);
    _exit(128 + sig);
}
