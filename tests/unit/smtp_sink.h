/*
 * smtp_sink.h — what test_smtp.c and test_mailer.c share, written once: a real SMTP server on
 * loopback for a test (tests/unit/smtp_sink.py, aiosmtpd) started and stopped around it, with one
 * recipient it refuses (550) and one it refuses for now (451); finding a python3 that has
 * aiosmtpd (the test skips, saying so, when none has); free loopback ports; and counting and
 * reading what the sink received. Everything is static inline, as in test_support.h. Run the
 * tests from the repository root.
 */
#ifndef NSDB_TEST_SMTP_SINK_H
#define NSDB_TEST_SMTP_SINK_H

#include "test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SINK_SCRIPT "tests/unit/smtp_sink.py"
#define REFUSED_RECIPIENT "unknown@example.jp"
#define TEMPFAIL_RECIPIENT "busy@example.jp"

typedef struct sink {
    const char *python; /* NULL: no python3 with aiosmtpd, SMTP sink tests skip */
    pid_t pid;
    int port;
    char dir[64];
    char url[64];
    int delivered;
} sink;

static inline double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs argv with stdout and stderr to /dev/null (quiet) or inherited; returns the pid or -1. */
static inline pid_t spawn(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (quiet)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

static inline bool python_has_aiosmtpd(const char *python)
{
    char *argv[] = {(char *)python, "-c", "import aiosmtpd", NULL};
    pid_t pid = spawn(argv, true);
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

/* python3 on PATH may be a pyenv or venv interpreter without Debian's packages: try the
 * system one too. NSDB_PYTHON overrides. */
static inline const char *find_python_with_aiosmtpd(void)
{
    const char *candidates[] = {getenv("NSDB_PYTHON"), "python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (candidates[i] != NULL && python_has_aiosmtpd(candidates[i]))
            return candidates[i];
    return NULL;
}

/* A loopback port nobody listens on (the kernel's pick, released again). */
static inline int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

/* Starts the sink on a free port (s->python set); false, with the reason on stderr, when it
   does not come up. */
static inline bool sink_start(sink *s)
{
    if (test_mkdtemp(s->dir, sizeof s->dir, "nsdb-smtp") != 0) {
        s->dir[0] = '\0';
        return false;
    }
    if (access(SINK_SCRIPT, R_OK) != 0) {
        fprintf(stderr, "smtp sink: %s not found; run the tests from the repository root\n",
                SINK_SCRIPT);
        return false;
    }
    s->port = free_port();
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    char *argv[] = {
        (char *)s->python, SINK_SCRIPT,        port, s->dir, "--refuse", REFUSED_RECIPIENT,
        "--tempfail",      TEMPFAIL_RECIPIENT, NULL};
    s->pid = spawn(argv, false);
    if (s->pid <= 0)
        return false;
    char ready[128];
    snprintf(ready, sizeof ready, "%s/.ready", s->dir);
    for (double deadline = now_seconds() + 20; now_seconds() < deadline; sleep_ms(50)) {
        if (access(ready, F_OK) == 0)
            return true;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            fprintf(stderr, "smtp sink: smtp_sink.py exited before it was ready\n");
            return false;
        }
    }
    fprintf(stderr, "smtp sink: smtp_sink.py did not become ready\n");
    return false;
}

static inline void sink_stop(sink *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status;
        waitpid(s->pid, &status, 0);
        s->pid = 0;
    }
    if (s->dir[0] != '\0')
        test_remove_tree(s->dir);
}

/* The n-th message's envelope (msg-NNNN.json, n from 1) as text (malloc'd), or NULL when the
   sink has not written it. The sink writes a message's files before it answers 250. */
static inline char *sink_envelope(const sink *s, int n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/msg-%04d.json", s->dir, n);
    size_t len;
    return test_slurp_maybe(path, &len);
}

/* How many messages the sink has accepted. */
static inline int sink_count(const sink *s)
{
    int n = 0;
    for (char *meta; (meta = sink_envelope(s, n + 1)) != NULL; n++)
        free(meta);
    return n;
}

#endif
