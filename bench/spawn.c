/*
 * spawn - hold N idle processes alive while bench/run times the /proc readers.
 *
 * usage: spawn N PIDFILE
 *
 * The program puts itself in a new session (so it is also the leader of a new
 * process group that holds nothing but itself and its children), then forks N
 * children.  Child number i:
 *   - asks the kernel for SIGKILL when the spawner dies (PR_SET_PDEATHSIG), so
 *     no child outlives it even if the spawner itself is SIGKILLed;
 *   - dirties i % 64 private anonymous pages, so the children's RSS differ;
 *   - writes an oom_score_adj: i%4 == 0 gets a positive value in 1..1000,
 *     i%4 == 1 a negative value in -500..-1, the rest keep 0.  Lowering the
 *     value needs CAP_SYS_RESOURCE; without it the write fails, and that is
 *     fine (the child keeps 0);
 *   - sends one byte down a shared pipe to say it is ready, then sleeps in
 *     pause() until it is killed.
 *
 * When every child has reported, PIDFILE is written (to PIDFILE.tmp.<pid>,
 * then renamed, so a reader never sees half a file):
 *     pgid <PGID> leader <PID> n <N>
 *     <pid of child 0>
 *     ...
 * and the spawner waits.  SIGTERM, SIGINT or SIGHUP make it SIGKILL the pids
 * it forked (and nothing else), reap all of them, remove PIDFILE and exit 0.
 * Exit status 1: not all N children could be started (they are still reaped);
 * 2: bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 100000

static volatile sig_atomic_t quit_requested;

static void note_quit(int signo)
{
    (void)signo;
    quit_requested = 1;
}

static int oom_adj_for(long i)
{
    long k = i / 4;
    switch (i % 4) {
    case 0:
        return (int)(1 + (k * 131) % 1000);   /* 1 .. 1000 */
    case 1:
        return (int)-(1 + (k * 17) % 500);    /* -1 .. -500 */
    default:
        return 0;
    }
}

/* Runs in the child; never returns. */
static void be_idle_child(long i, int ready_fd, pid_t spawner, const sigset_t *plain_mask)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    sigprocmask(SIG_SETMASK, plain_mask, NULL);

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        _exit(3);
    /* the spawner may have died between fork() and prctl() */
    if (getppid() != spawner)
        _exit(3);

    long npages = i % 64;
    if (npages > 0) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        unsigned char *area = mmap(NULL, npages * page, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area != MAP_FAILED) {
            for (long p = 0; p < npages; p++)
                area[p * page] = (unsigned char)(i + p);
        }
    }

    int adj = oom_adj_for(i);
    if (adj != 0) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            char text[24];
            int len = snprintf(text, sizeof text, "%d\n", adj);
            ssize_t ignored = write(fd, text, (size_t)len); /* EACCES without CAP_SYS_RESOURCE */
            (void)ignored;
            close(fd);
        }
    }

    const char ok = '+';
    while (write(ready_fd, &ok, 1) < 0) {
        if (errno != EINTR)
            _exit(4);
    }
    close(ready_fd);

    for (;;)
        pause();
}

static int write_pidfile(const char *path, const pid_t *kids, long count)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (tmp == NULL)
        return -1;
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());

    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        perror(tmp);
        free(tmp);
        return -1;
    }
    fprintf(f, "pgid %ld leader %ld n %ld\n", (long)getpgrp(), (long)getpid(), count);
    for (long i = 0; i < count; i++)
        fprintf(f, "%ld\n", (long)kids[i]);
    int bad = ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        perror(path);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s N PIDFILE\n", argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    long want = strtol(argv[1], &end, 10);
    if (errno != 0 || *argv[1] == '\0' || *end != '\0' || want < 0 || want > MAX_CHILDREN) {
        fprintf(stderr, "spawn: N must be an integer in 0..%d\n", MAX_CHILDREN);
        return 2;
    }
    const char *pidfile = argv[2];

    /* A new session; if we already lead a process group setsid() fails, and
     * setpgid() is the fallback that still gives us a group of our own. */
    if (setsid() < 0)
        setpgid(0, 0);

    /* The quit signals stay blocked except while we sleep in ppoll() or
     * sigsuspend(), so a request can never slip in between check and sleep. */
    sigset_t quit_set, plain_mask;
    sigemptyset(&quit_set);
    sigaddset(&quit_set, SIGTERM);
    sigaddset(&quit_set, SIGINT);
    sigaddset(&quit_set, SIGHUP);
    sigprocmask(SIG_BLOCK, &quit_set, &plain_mask);
    sigset_t sleep_mask = plain_mask;
    sigdelset(&sleep_mask, SIGTERM);
    sigdelset(&sleep_mask, SIGINT);
    sigdelset(&sleep_mask, SIGHUP);

    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = note_quit;
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGHUP, &act, NULL);

    int ready_pipe[2];
    if (pipe2(ready_pipe, O_CLOEXEC) != 0) {
        perror("spawn: pipe");
        return 1;
    }
    pid_t *kids = calloc((size_t)want + 1, sizeof *kids);
    if (kids == NULL) {
        perror("spawn: calloc");
        return 1;
    }

    pid_t me = getpid();
    long started = 0;
    for (long i = 0; i < want; i++) {
        if (i % 256 == 255) { /* a quit request stays pending while blocked: look */
            sigset_t pending;
            if (sigpending(&pending) == 0 && (sigismember(&pending, SIGTERM) ||
                sigismember(&pending, SIGINT) || sigismember(&pending, SIGHUP)))
                break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "spawn: fork #%ld: %s\n", i, strerror(errno));
            break;
        }
        if (pid == 0) {
            close(ready_pipe[0]);
            be_idle_child(i, ready_pipe[1], me, &plain_mask);
        }
        kids[started++] = pid;
    }
    close(ready_pipe[1]);

    /* Count ready bytes until all have arrived, every writer has gone (EOF),
     * or a quit signal comes in. */
    long ready = 0;
    char chunk[4096];
    struct pollfd pfd = { .fd = ready_pipe[0], .events = POLLIN };
    while (ready < started && !quit_requested) {
        int rc = ppoll(&pfd, 1, NULL, &sleep_mask);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            perror("spawn: ppoll");
            break;
        }
        ssize_t got = read(ready_pipe[0], chunk, sizeof chunk);
        if (got > 0)
            ready += got;
        else if (got == 0 || errno != EINTR)
            break;
    }
    close(ready_pipe[0]);

    int status = 0;
    int wrote_pidfile = 0;
    if (quit_requested) {
        fprintf(stderr, "spawn: asked to stop after %ld of %ld children\n", ready, want);
    } else if (started != want || ready != want) {
        fprintf(stderr, "spawn: only %ld of %ld children became ready\n", ready, want);
        status = 1;
    } else if (write_pidfile(pidfile, kids, started) != 0) {
        status = 1;
    } else {
        wrote_pidfile = 1;
        fprintf(stderr, "spawn: %ld children ready, leader/pgid %ld\n", started, (long)me);
        while (!quit_requested)
            sigsuspend(&sleep_mask);
    }

    /* Teardown: SIGKILL exactly the pids we forked, then reap until none is left. */
    for (long i = 0; i < started; i++)
        kill(kids[i], SIGKILL);
    long reaped = 0;
    for (;;) {
        pid_t w = waitpid(-1, NULL, 0);
        if (w > 0)
            reaped++;
        else if (errno != EINTR)
            break; /* ECHILD: every child has been reaped */
    }
    if (wrote_pidfile)
        unlink(pidfile);
    fprintf(stderr, "spawn: killed and reaped %ld children\n", reaped);
    free(kids);
    return status;
}
