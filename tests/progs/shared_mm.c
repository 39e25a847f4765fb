/*
 * shared_mm: a process and a child that shares its memory (clone(CLONE_VM), as vfork does
 * until exec): since Linux 4.7 setting oom_score_adj of one sets it for both (the kernel
 * keeps every process of an mm on one value, or the OOM killer could not free it).
 * Prints "ready PARENT CHILD" and waits until stdin closes; kills the child then.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[1 << 16];

static int child_main(void *arg) {
    (void)arg;
    for (;;)
        pause();
    return 0;
}

int main(void) {
    int child = clone(child_main, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
    if (child < 0) {
        perror("clone");
        return 1;
    }
    printf("ready %d %d\n", (int)getpid(), child);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 0;
}
