/*
 * leaderless.c - a process whose main thread exits while a worker thread holds memory.
 *
 * Usage: leaderless ADJ
 * Writes ADJ to its own oom_score_adj, prints "ready", reads a number of MiB from stdin,
 * starts a worker thread and calls pthread_exit() in main: the leader becomes a zombie
 * with no mm while the process lives on.  The worker touches that many MiB, prints
 * "allocated TID" and sleeps.  Tests of oomutil build it with cc (tests/helpers.py).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long mib;

static void *worker(void *arg) {
    (void)arg;
    volatile char *p = malloc((size_t)mib << 20);
    if (!p) {
        printf("malloc failed\n");
        fflush(stdout);
        return NULL;
    }
    for (long i = 0; i < (mib << 20); i += 4096) p[i] = 1;
    printf("allocated %ld\n", (long)syscall(SYS_gettid));
    fflush(stdout);
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    FILE *f = fopen("/proc/self/oom_score_adj", "w");
    if (f) {
        fputs(argc > 1 ? argv[1] : "0", f);
        fclose(f);
    }
    printf("ready\n");
    fflush(stdout);
    if (scanf("%ld", &mib) != 1) return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) return 1;
    pthread_exit(NULL);
}
