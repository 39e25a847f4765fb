/*
 * floor - the cheapest way we know to list processes by OOM score; the yardstick
 * bench/run measures oomutil against.
 *
 * usage: floor [-n K] [-f FILE,FILE,...]
 *   -n K     print the K highest-scoring processes (default 20)
 *   -f LIST  the files to read in every /proc/<pid>/ directory, comma-separated
 *            (default "oom_score,oom_score_adj,comm,status").  Any file name may
 *            be listed; each one is read whole.  Only oom_score, oom_score_adj,
 *            comm and status (its VmRSS: and VmSwap: lines; its Name: line
 *            stands in for comm when comm is not listed) are interpreted.
 *            bench/run also uses "oom_score,oom_score_adj,status,cgroup,stat",
 *            the files behind one oomutil process record.
 *
 * Method: the /proc directory is listed with raw getdents64 calls; every numeric
 * entry's directory is opened once, and each listed file is opened relative to
 * that descriptor (openat, no path walk from /), read with one read() into a stack
 * buffer (more only if the buffer filled up) and closed.  A process whose directory
 * or files vanish mid-scan is left out.  The survivors are sorted by oom_score,
 * highest first (then larger RSS, then lower pid) and the top K are printed.
 * "floor: N processes scanned" goes to stderr.  No stdio on the read path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_FILES "oom_score,oom_score_adj,comm,status"
#define MAX_FILES 32
#define READ_CAP 16384

enum kind { K_OTHER, K_SCORE, K_ADJ, K_COMM, K_STATUS };

struct wanted {
    const char *name;
    enum kind kind;
};

struct proc_row {
    int pid;
    int score;
    int adj;
    long rss_kib;
    long swap_kib;
    char comm[16];
};

/* Layout of what the getdents64 system call returns. */
struct dirent64_raw {
    uint64_t ino;
    int64_t next_off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static long parse_long(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return strtol(s, NULL, 10);
}

/* Value of a "Key:   123 kB" line of /proc/<pid>/status, 0 when absent. */
static long status_kib(const char *text, const char *key)
{
    size_t klen = strlen(key);
    const char *line = text;
    while (line && *line) {
        if (strncmp(line, key, klen) == 0)
            return parse_long(line + klen);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

/* Read all of dirfd/name; the first chunk (NUL-terminated) stays in buf.
 * Returns the length of that chunk, or -1 if the file could not be read. */
static ssize_t slurp(int dirfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t first = read(fd, buf, cap - 1);
    if (first >= 0) {
        buf[first] = '\0';
        if ((size_t)first == cap - 1) { /* more to come: read the rest, drop it */
            char rest[READ_CAP];
            ssize_t more;
            while ((more = read(fd, rest, sizeof rest)) > 0)
                ;
            if (more < 0)
                first = -1;
        }
    }
    close(fd);
    return first;
}

static int by_badness(const void *pa, const void *pb)
{
    const struct proc_row *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    if (a->rss_kib != b->rss_kib)
        return a->rss_kib < b->rss_kib ? 1 : -1;
    return (a->pid > b->pid) - (a->pid < b->pid);
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-n K] [-f FILE,FILE,...]  (default files: %s)\n",
            argv0, DEFAULT_FILES);
    exit(2);
}

static int pid_of(const char *name)
{
    if (name[0] < '1' || name[0] > '9')
        return -1;
    long v = 0;
    for (const char *c = name; *c; c++) {
        if (*c < '0' || *c > '9' || v > 100000000)
            return -1;
        v = v * 10 + (*c - '0');
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    long top_k = 20;
    char *list = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            top_k = strtol(argv[++i], &end, 10);
            if (*end != '\0' || top_k < 0)
                usage(argv[0]);
        } else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            list = argv[++i];
        } else {
            usage(argv[0]);
        }
    }
    if (list == NULL)
        list = strdup(DEFAULT_FILES);
    if (list == NULL)
        return 1;

    struct wanted files[MAX_FILES];
    int nfiles = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*tok == '\0')
            continue;
        if (nfiles == MAX_FILES || strchr(tok, '/')) {
            fprintf(stderr, "floor: at most %d plain file names in -f\n", MAX_FILES);
            return 2;
        }
        enum kind k = K_OTHER;
        if (strcmp(tok, "oom_score") == 0)
            k = K_SCORE;
        else if (strcmp(tok, "oom_score_adj") == 0)
            k = K_ADJ;
        else if (strcmp(tok, "comm") == 0)
            k = K_COMM;
        else if (strcmp(tok, "status") == 0)
            k = K_STATUS;
        files[nfiles].name = tok;
        files[nfiles].kind = k;
        nfiles++;
    }

    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        perror("floor: /proc");
        return 1;
    }

    size_t have = 0, room = 512;
    struct proc_row *rows = malloc(room * sizeof *rows);
    if (rows == NULL) {
        perror("floor: malloc");
        return 1;
    }

    static char dents[1 << 16];
    char buf[READ_CAP];
    for (;;) {
        long got = syscall(SYS_getdents64, procfd, dents, sizeof dents);
        if (got < 0) {
            perror("floor: getdents64");
            return 1;
        }
        if (got == 0)
            break;
        for (long pos = 0; pos < got;) {
            const struct dirent64_raw *d = (const void *)(dents + pos);
            pos += d->reclen;
            int pid = pid_of(d->name);
            if (pid < 0)
                continue;
            int dirfd = openat(procfd, d->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dirfd < 0)
                continue;

            struct proc_row row;
            memset(&row, 0, sizeof row);
            row.pid = pid;
            int complete = 1;
            for (int f = 0; f < nfiles; f++) {
                ssize_t len = slurp(dirfd, files[f].name, buf, sizeof buf);
                if (len < 0) {
                    complete = 0; /* the process exited while we looked */
                    break;
                }
                switch (files[f].kind) {
                case K_SCORE:
                    row.score = (int)parse_long(buf);
                    break;
                case K_ADJ:
                    row.adj = (int)parse_long(buf);
                    break;
                case K_COMM: {
                    size_t n = (size_t)len;
                    if (n > 0 && buf[n - 1] == '\n')
                        n--;
                    if (n >= sizeof row.comm)
                        n = sizeof row.comm - 1;
                    memcpy(row.comm, buf, n);
                    row.comm[n] = '\0';
                    break;
                }
                case K_STATUS:
                    row.rss_kib = status_kib(buf, "VmRSS:");
                    row.swap_kib = status_kib(buf, "VmSwap:");
                    if (row.comm[0] == '\0' && strncmp(buf, "Name:\t", 6) == 0) {
                        /* no comm file in the list: the name heads status */
                        size_t n = strcspn(buf + 6, "\n");
                        if (n >= sizeof row.comm)
                            n = sizeof row.comm - 1;
                        memcpy(row.comm, buf + 6, n);
                        row.comm[n] = '\0';
                    }
                    break;
                case K_OTHER:
                    break;
                }
            }
            close(dirfd);
            if (!complete)
                continue;

            if (have == room) {
                room *= 2;
                struct proc_row *bigger = realloc(rows, room * sizeof *rows);
                if (bigger == NULL) {
                    perror("floor: realloc");
                    return 1;
                }
                rows = bigger;
            }
            rows[have++] = row;
        }
    }
    close(procfd);

    qsort(rows, have, sizeof *rows, by_badness);
    printf("%8s %6s %6s %10s %10s  %s\n", "PID", "SCORE", "ADJ", "RSS_KiB", "SWAP_KiB", "COMM");
    for (size_t i = 0; i < have && (long)i < top_k; i++)
        printf("%8d %6d %6d %10ld %10ld  %s\n", rows[i].pid, rows[i].score, rows[i].adj,
               rows[i].rss_kib, rows[i].swap_kib, rows[i].comm);
    fprintf(stderr, "floor: %zu processes scanned\n", have);
    free(rows);
    return 0;
}
