/*
 * test_mailer.c — the outbox sender (core/mailer.c) and the operator's resend
 * (core/mail_desk.c) against a real SMTP server on loopback (smtp_sink.h), on SQLite and on
 * PostgreSQL (when NSDB_DATABASE_URL names a server; each test gets a database of its own), with
 * an injected clock so that a day of retries takes no time: temporary failures (no server, 451)
 * are retried for ever at an interval that stops growing at an hour; a 550 is retried for a day
 * before the mail is failed; the operator's resend puts a failed or waiting mail back for an
 * immediate attempt, audited, and refuses what cannot be resent; a claim held by a sender that
 * died ends with its lease; two senders (two "servers", each its own pool) working on one outbox
 * at once deliver every mail exactly once; and the counts /metrics shows.
 */
#include <pthread.h>

#include "smtp_sink.h"

#include <jansson.h>
#include <sodium.h>

/* db_exec_script makes and drops the PostgreSQL database of a test: the private SQL header */
#define NSDB_STORE_INTERNAL
#include "core/actor.h"
#include "core/mail_desk.h"
#include "core/mailer.h"
#include "domain/smtp.h"
#include "store/audit.h"
#include "store/outbox.h"
#include "store/sql.h"
#include "util/arena.h"
#include "util/log.h"

#include "both_backends.h"

#define T0 1800000000LL /* 2027-01-15: any fixed time; the clock is the test's */
#define BODY_MARK "BODY-SECRET-Kx7Q"

struct fixture {
    char dir[64];
    char pg_name[64]; /* the database made for this test on PostgreSQL */
    char *admin_url;
    char *url; /* the test's database: NULL for SQLite in dir */
    app app;
    sink sink;
    arena *arena;
    db *conn; /* the test's own connection, for reads and the resend */
    int64_t clock;
    mailer_sender sender;
    char dead_url[64]; /* an SMTP URL nobody listens on */
    int64_t mails;     /* mails queued so far */
};

/* Runs one statement on the server's default database (CREATE/DROP DATABASE). */
static nsdb_err pg_admin(const char *url, const char *dir, const char *sql)
{
    db_pool *admin = NULL;
    nsdb_err e = db_pool_open(url, dir, 1, &admin);
    if (e != NSDB_OK)
        return e;
    db *c = db_pool_acquire(admin);
    e = db_exec_script(c, sql); /* not in a transaction: CREATE DATABASE refuses one */
    db_pool_release(admin, c);
    db_pool_close(admin);
    return e;
}

static int64_t fake_clock(void *arg)
{
    return *(const int64_t *)arg;
}

static bool open_app(struct fixture *f, app *a, int pool_size)
{
    app_config cfg;
    app_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.database_url = f->url;
    cfg.smtp_url = f->sink.url;
    cfg.mail_from = "noreply@nsdb.example.go.jp";
    return app_open(a, &cfg, pool_size) == NSDB_OK;
}

static int setup_with(void **state, const char *url)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || test_mkdtemp(f->dir, sizeof f->dir, "nsdb-test-mailer") != 0)
        return -1;
    *state = f;
    f->sink.python = find_python_with_aiosmtpd();
    if (f->sink.python == NULL) {
        fprintf(stderr, "SKIP: no python3 can import aiosmtpd (Debian: python3-aiosmtpd)\n");
        return 0; /* each test skips: the app stays closed */
    }
    if (!sink_start(&f->sink))
        return -1;
    if (url != NULL) {
        snprintf(f->pg_name, sizeof f->pg_name, "nsdb_mailer_%ld", (long)getpid());
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
        nsdb_err e = pg_admin(url, f->dir, sql);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_name);
        if (e == NSDB_OK)
            e = pg_admin(url, f->dir, sql);
        if (e != NSDB_OK)
            return -1;
        f->admin_url = strdup(url);
        const char *slash = strrchr(url, '/');
        size_t base = slash ? (size_t)(slash - url) : strlen(url);
        f->url = malloc(base + strlen(f->pg_name) + 2);
        memcpy(f->url, url, base);
        sprintf(f->url + base, "/%s", f->pg_name);
    }
    if (!open_app(f, &f->app, 3))
        return -1;
    f->arena = arena_new();
    f->conn = db_pool_acquire(f->app.pool);
    f->clock = T0;
    f->sender = (mailer_sender){.id = "sender-a", .clock = fake_clock, .clock_arg = &f->clock};
    snprintf(f->dead_url, sizeof f->dead_url, "smtp://127.0.0.1:%d", free_port());
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL)
        return 0;
    if (f->conn != NULL) {
        db_pool_release(f->app.pool, f->conn);
        app_close(&f->app);
    }
    if (f->arena != NULL)
        arena_free(f->arena);
    if (f->admin_url != NULL) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
        nsdb_err e = pg_admin(f->admin_url, f->dir, sql);
        (void)e; /* the throwaway server is removed anyway */
        free(f->admin_url);
    }
    free(f->url);
    sink_stop(&f->sink);
    char path[128];
    snprintf(path, sizeof path, "%s/media", f->dir);
    rmdir(path);
    remove_data_dir(f->dir);
    free(f);
    return 0;
}

/* The fixture, or a skip: PostgreSQL not configured, or no SMTP sink. */
static struct fixture *fixture_of(void **state)
{
    struct fixture *f = *state;
    if (f == NULL || f->conn == NULL)
        skip();
    return f;
}

/* ---------------------------------------------------------------- helpers ---- */

/* Queues a mail to `to` at the fixture's clock; returns its id (ids count from 1 in the test's
   fresh database: checked by reading the mail back). */
static int64_t enqueue(struct fixture *f, const char *to)
{
    char message[256];
    snprintf(message, sizeof message, "To: <%s>\r\nSubject: test\r\n\r\n%s\r\n", to, BODY_MARK);
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    assert_int_equal(mailer_enqueue(&f->app, f->conn, to, "account_issued", message,
                                    strlen(message), f->clock),
                     NSDB_OK);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
    int64_t id = ++f->mails;
    store_outbox_entry *m = NULL;
    assert_int_equal(store_outbox_find(f->conn, f->arena, id, &m), NSDB_OK);
    assert_string_equal(m->to_address, to);
    assert_int_equal(m->created_at, f->clock);
    return id;
}

static store_outbox_entry *entry(struct fixture *f, int64_t id)
{
    store_outbox_entry *m = NULL;
    assert_int_equal(store_outbox_find(f->conn, f->arena, id, &m), NSDB_OK);
    return m;
}

static mailer_result flush_at(struct fixture *f, int64_t now)
{
    f->clock = now;
    mailer_result r;
    assert_int_equal(mailer_flush_as(&f->app, &f->sender, false, &r), NSDB_OK);
    return r;
}

/* The recipients of everything the sink accepted, in order (a JSON array, to decref). */
static json_t *sink_recipients(const sink *s)
{
    json_t *all = json_array();
    char *meta;
    for (int n = 1; (meta = sink_envelope(s, n)) != NULL; n++) {
        json_t *j = json_loads(meta, 0, NULL);
        assert_non_null(j);
        json_t *to = json_array_get(json_object_get(j, "rcpt_tos"), 0);
        json_array_append(all, to);
        json_decref(j);
        free(meta);
    }
    return all;
}

/* Retries a mail the sink refuses (550) at each due time until it is failed; returns the time
   of the first refusal. */
static int64_t refuse_until_failed(struct fixture *f, int64_t id)
{
    int64_t first = f->clock;
    mailer_result r = flush_at(f, first);
    assert_int_equal(r.retried, 1);
    for (int guard = 0; guard < 100; guard++) {
        store_outbox_entry *m = entry(f, id);
        if (m->status == MAIL_STATUS_FAILED)
            return first;
        r = flush_at(f, m->next_attempt_at);
        bool over = f->clock - first >= MAILER_REFUSAL_SECONDS;
        assert_int_equal(r.failed, over ? 1 : 0);
        assert_int_equal(r.retried, over ? 0 : 1);
    }
    fail_msg("mail %lld was never failed", (long long)id);
    return 0;
}

/* ---------------------------------------------------------------- retries ---- */

static void temporary_failures_are_retried_for_ever_at_a_capped_interval(void **state)
{
    struct fixture *f = fixture_of(state);
    int64_t busy = enqueue(f, TEMPFAIL_RECIPIENT);
    int64_t later = enqueue(f, "later@example.jp");
    /* no server at all for the first ten attempts; then the server answers 451 for busy@ and
       takes later@ */
    int64_t interval_sum = 0;
    for (int k = 0; k < 30; k++) {
        f->app.cfg.smtp_url = k < 10 ? f->dead_url : f->sink.url;
        int64_t now = k == 0 ? T0 : entry(f, busy)->next_attempt_at;
        if (k > 0) { /* not a second early */
            mailer_result early = flush_at(f, now - 1);
            assert_int_equal(early.sent + early.retried + early.failed, 0);
        }
        mailer_result r = flush_at(f, now);
        assert_int_equal(r.failed, 0);
        assert_int_equal(r.sent, k == 10 ? 1 : 0);
        store_outbox_entry *m = entry(f, busy);
        assert_int_equal(m->status, MAIL_STATUS_PENDING); /* past the old ceiling of 20 too */
        assert_int_equal(m->attempts, k + 1);
        assert_int_equal(m->refused_since, 0);
        int64_t expected = k < 7 ? (int64_t)30 << k : 3600; /* 30 s … 32 min, then an hour */
        assert_int_equal(m->next_attempt_at - now, expected);
        assert_int_equal(mailer_backoff_seconds(k), expected);
        assert_true(m->last_error != NULL && *m->last_error != '\0');
        if (k >= 10)
            assert_non_null(strstr(m->last_error, "451"));
        assert_null(strstr(m->last_error, BODY_MARK));
        interval_sum += expected;
    }
    assert_true(interval_sum > 13 * 3600); /* longer than the old 20 attempts lasted */
    /* later@ was delivered once the server answered, and only once */
    store_outbox_entry *m = entry(f, later);
    assert_int_equal(m->status, MAIL_STATUS_SENT);
    assert_int_equal(m->attempts, 11);
    json_t *to = sink_recipients(&f->sink);
    assert_int_equal(json_array_size(to), 1);
    assert_string_equal(json_string_value(json_array_get(to, 0)), "later@example.jp");
    json_decref(to);
}

static void a_refusal_is_retried_for_a_day_then_the_mail_is_failed(void **state)
{
    struct fixture *f = fixture_of(state);
    int64_t id = enqueue(f, REFUSED_RECIPIENT);
    mailer_result r = flush_at(f, T0);
    /* one 550 is not believed: a misconfigured relay answers 5xx as well */
    assert_int_equal(r.retried, 1);
    assert_int_equal(r.failed, 0);
    store_outbox_entry *m = entry(f, id);
    assert_int_equal(m->status, MAIL_STATUS_PENDING);
    assert_int_equal(m->refused_since, T0);
    assert_int_equal(m->next_attempt_at, T0 + 30);
    assert_non_null(strstr(m->last_error, "550"));
    /* retried on the same schedule until refusals have lasted a day */
    f->clock = entry(f, id)->next_attempt_at;
    int64_t first = T0;
    for (int guard = 0; entry(f, id)->status == MAIL_STATUS_PENDING; guard++) {
        assert_true(guard < 100);
        assert_int_equal(entry(f, id)->refused_since, first); /* the run's first refusal */
        r = flush_at(f, entry(f, id)->next_attempt_at);
    }
    m = entry(f, id);
    assert_int_equal(m->status, MAIL_STATUS_FAILED);
    assert_true(f->clock - T0 >= MAILER_REFUSAL_SECONDS);
    assert_true(f->clock - T0 < MAILER_REFUSAL_SECONDS + MAILER_BACKOFF_MAX);
    assert_int_equal(r.failed, 1);
    assert_non_null(strstr(m->last_error, "550"));
    assert_null(strstr(m->last_error, BODY_MARK));
    /* a failed mail is not selected again */
    int64_t attempts = m->attempts;
    r = flush_at(f, f->clock + 30 * 86400);
    assert_int_equal(r.sent + r.retried + r.failed, 0);
    assert_int_equal(entry(f, id)->attempts, attempts);
    assert_int_equal(sink_count(&f->sink), 0);
}

/* ---------------------------------------------------------------- resend ---- */

static core_ctx operator_ctx(struct fixture *f)
{
    core_ctx c = {.app = &f->app, .conn = f->conn, .arena = f->arena, .who = core_actor_cli()};
    c.who.now = f->clock;
    return c;
}

static void resend_puts_failed_and_waiting_mail_back_for_an_immediate_attempt(void **state)
{
    struct fixture *f = fixture_of(state);
    int64_t refused = enqueue(f, REFUSED_RECIPIENT);
    refuse_until_failed(f, refused);
    assert_int_equal(entry(f, refused)->status, MAIL_STATUS_FAILED);

    /* failed → pending, due now, its count and refusal forgotten; audited */
    f->clock += 3600;
    core_ctx c = operator_ctx(f);
    nsdb_problem pb = {0};
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)refused);
    assert_int_equal(core_mail_resend(&c, id, &pb), NSDB_OK);
    store_outbox_entry *m = entry(f, refused);
    assert_int_equal(m->status, MAIL_STATUS_PENDING);
    assert_int_equal(m->attempts, 0);
    assert_int_equal(m->next_attempt_at, f->clock);
    assert_int_equal(m->refused_since, 0);
    store_audit *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(f->conn, f->arena, 10, &rows, &n), NSDB_OK);
    assert_true(n >= 1);
    assert_string_equal(rows[0].action, "mail_resend");
    assert_string_equal(rows[0].target, arena_printf(f->arena, "mail:%s", id));
    assert_string_equal(rows[0].result, "ok");
    assert_non_null(strstr(rows[0].detail, REFUSED_RECIPIENT));
    assert_null(strstr(rows[0].detail, BODY_MARK));
    /* tried at once; refused again, a new day of refusals begins */
    mailer_result r = flush_at(f, f->clock);
    assert_int_equal(r.retried, 1);
    assert_int_equal(entry(f, refused)->refused_since, f->clock);

    /* a waiting mail (no server) is resent before its backoff ends and delivered at once */
    f->app.cfg.smtp_url = f->dead_url;
    int64_t waiting = enqueue(f, "waiting@example.jp");
    r = flush_at(f, f->clock);
    assert_int_equal(entry(f, waiting)->attempts, 1);
    f->app.cfg.smtp_url = f->sink.url;
    f->clock += 1;
    assert_int_equal(flush_at(f, f->clock).sent, 0); /* its backoff still runs */
    c = operator_ctx(f);
    snprintf(id, sizeof id, "%lld", (long long)waiting);
    assert_int_equal(core_mail_resend(&c, id, &pb), NSDB_OK);
    r = flush_at(f, f->clock);
    assert_int_equal(r.sent, 1);
    assert_int_equal(entry(f, waiting)->status, MAIL_STATUS_SENT);
    assert_int_equal(sink_count(&f->sink), 1);
}

static void resend_refuses_sent_untried_claimed_and_unknown_mail(void **state)
{
    struct fixture *f = fixture_of(state);
    int64_t sent = enqueue(f, "sent@example.jp");
    assert_int_equal(flush_at(f, T0).sent, 1);
    int64_t untried = enqueue(f, "untried@example.jp");
    int64_t claimed = enqueue(f, "claimed@example.jp");
    f->clock = T0 + 10;
    /* claimed@ waits after a failure; then a sender claims it (it is sending it now) */
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    store_outbox_mail *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_claim(f->conn, f->arena, "other", T0 + 10, false, T0 + 610,
                                        untried, 10, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, claimed);
    assert_int_equal(store_outbox_mark_retry(f->conn, claimed, "other", T0 + 40, "no server", 0,
                                             false),
                     NSDB_OK);
    assert_int_equal(store_outbox_claim(f->conn, f->arena, "other", T0 + 40, true, T0 + 640,
                                        untried, 10, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(db_commit(f->conn), NSDB_OK);

    const struct {
        const char *id;
        nsdb_err code;
    } CASES[] = {
        {arena_printf(f->arena, "%lld", (long long)sent), NSDB_ERR_CONFLICT},
        {arena_printf(f->arena, "%lld", (long long)untried), NSDB_ERR_CONFLICT},
        {arena_printf(f->arena, "%lld", (long long)claimed), NSDB_ERR_CONFLICT},
        {"999", NSDB_ERR_NOT_FOUND},
        {"abc", NSDB_ERR_NOT_FOUND},
        {"-1", NSDB_ERR_NOT_FOUND},
        {"", NSDB_ERR_NOT_FOUND},
    };
    f->clock = T0 + 50;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        core_ctx c = operator_ctx(f);
        nsdb_problem pb = {0};
        assert_int_equal(core_mail_resend(&c, CASES[i].id, &pb), CASES[i].code);
        assert_non_null(pb.message);
    }
    assert_int_equal(entry(f, sent)->status, MAIL_STATUS_SENT);
    assert_int_equal(entry(f, claimed)->attempts, 1);
    store_audit *audit = NULL;
    assert_int_equal(store_audit_list(f->conn, f->arena, 10, &audit, &n), NSDB_OK);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(audit[i].action, "mail_resend");
    /* once the claim's lease has ended, the mail can be resent */
    f->clock = T0 + 640;
    core_ctx c = operator_ctx(f);
    nsdb_problem pb = {0};
    assert_int_equal(core_mail_resend(&c, CASES[2].id, &pb), NSDB_OK);
}

/* ---------------------------------------------------------------- claims ---- */

static void the_claim_of_a_sender_that_died_ends_with_its_lease(void **state)
{
    struct fixture *f = fixture_of(state);
    int64_t id = enqueue(f, "orphan@example.jp");
    /* a server claims the mail and dies before it sends it */
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    store_outbox_mail *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_claim(f->conn, f->arena, "dead-server", T0, true,
                                        T0 + MAILER_CLAIM_SECONDS, 0, 10, &rows, &n),
                     NSDB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(db_commit(f->conn), NSDB_OK);
    /* nobody else sends it while the lease runs, nor claims it */
    assert_int_equal(flush_at(f, T0 + 1).sent, 0);
    assert_int_equal(flush_at(f, T0 + MAILER_CLAIM_SECONDS - 1).sent, 0);
    assert_int_equal(sink_count(&f->sink), 0);
    /* the lease ends: the mail is not lost */
    assert_int_equal(flush_at(f, T0 + MAILER_CLAIM_SECONDS).sent, 1);
    assert_int_equal(entry(f, id)->status, MAIL_STATUS_SENT);
    assert_int_equal(sink_count(&f->sink), 1);
    /* the dead server's late outcome changes nothing */
    assert_int_equal(db_begin(f->conn), NSDB_OK);
    assert_int_equal(store_outbox_mark_retry(f->conn, id, "dead-server", T0, "late", 0, false),
                     NSDB_ERR_CONFLICT);
    db_rollback(f->conn);
    assert_int_equal(entry(f, id)->status, MAIL_STATUS_SENT);
}

/* PostgreSQL once took every pending row for a claim of 10 (a rescanned IN-subquery with SKIP
   LOCKED): the second server then found nothing to do while the first held a 100-minute queue. */
static void a_claim_takes_at_most_its_limit_and_never_a_row_held_by_another(void **state)
{
    struct fixture *f = fixture_of(state);
    for (int i = 0; i < 25; i++)
        enqueue(f, arena_printf(f->arena, "r%02d@example.jp", i));
    const struct {
        const char *claimer;
        size_t count;
        int64_t first;
    } CLAIMS[] = {{"a", 10, 1}, {"b", 10, 11}, {"a", 5, 21}, {"b", 0, 0}};
    for (size_t k = 0; k < sizeof CLAIMS / sizeof CLAIMS[0]; k++) {
        store_outbox_mail *rows = NULL;
        size_t n = 0;
        assert_int_equal(db_begin(f->conn), NSDB_OK);
        assert_int_equal(store_outbox_claim(f->conn, f->arena, CLAIMS[k].claimer, T0, true,
                                            T0 + MAILER_CLAIM_SECONDS, 0, 10, &rows, &n),
                         NSDB_OK);
        assert_int_equal(db_commit(f->conn), NSDB_OK);
        assert_int_equal(n, CLAIMS[k].count);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(rows[i].id, CLAIMS[k].first + (int64_t)i);
    }
}

typedef struct sender_thread {
    app *app;
    pthread_barrier_t *start;
    pthread_t thread;
    int sent;
    int other; /* retried or failed: none expected */
    nsdb_err error;
} sender_thread;

static void *sender_main(void *arg)
{
    sender_thread *t = arg;
    pthread_barrier_wait(t->start);
    for (int round = 0; round < 1000; round++) {
        mailer_result r;
        t->error = mailer_flush(t->app, false, &r);
        if (t->error != NSDB_OK)
            break;
        t->sent += r.sent;
        t->other += r.retried + r.failed;
        if (r.sent > 0)
            continue;
        store_outbox_stats s;
        db *conn = db_pool_acquire(t->app->pool);
        t->error = store_outbox_stats_read(conn, (int64_t)time(NULL), &s);
        db_pool_release(t->app->pool, conn);
        if (t->error != NSDB_OK || s.pending == 0)
            break;
        sleep_ms(10); /* the other sender holds what is left */
    }
    return NULL;
}

static void two_senders_on_one_outbox_deliver_every_mail_exactly_once(void **state)
{
    struct fixture *f = fixture_of(state);
    enum { MAILS = 60 };
    f->clock = (int64_t)time(NULL); /* the senders use the real clock */
    for (int i = 0; i < MAILS; i++)
        enqueue(f, arena_printf(f->arena, "r%02d@example.jp", i));
    /* a second server: its own pool on the same database */
    app second;
    assert_true(open_app(f, &second, 2));
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    sender_thread t[2] = {{.app = &f->app, .start = &start}, {.app = &second, .start = &start}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i].thread, NULL, sender_main, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i].thread, NULL);
    pthread_barrier_destroy(&start);
    app_close(&second);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(t[i].error, NSDB_OK);
        assert_int_equal(t[i].other, 0);
    }
    print_message("senders: %d + %d mails\n", t[0].sent, t[1].sent);
    assert_int_equal(t[0].sent + t[1].sent, MAILS);
    /* the SMTP server received each mail once */
    json_t *to = sink_recipients(&f->sink);
    assert_int_equal(json_array_size(to), MAILS);
    bool seen[MAILS] = {false};
    for (size_t i = 0; i < json_array_size(to); i++) {
        int k = -1;
        assert_int_equal(sscanf(json_string_value(json_array_get(to, i)), "r%d@", &k), 1);
        assert_true(k >= 0 && k < MAILS);
        assert_false(seen[k]);
        seen[k] = true;
    }
    json_decref(to);
    for (int64_t id = 1; id <= MAILS; id++) {
        store_outbox_entry *m = entry(f, id);
        assert_int_equal(m->status, MAIL_STATUS_SENT);
        assert_int_equal(m->attempts, 1);
    }
}

/* ---------------------------------------------------------------- counts ---- */

static void stats_count_pending_waiting_failed_and_the_oldest_age(void **state)
{
    struct fixture *f = fixture_of(state);
    store_outbox_stats s;
    assert_int_equal(store_outbox_stats_read(f->conn, T0, &s), NSDB_OK);
    assert_int_equal(s.pending + s.waiting + s.failed + s.oldest_pending_age, 0);
    int64_t failed = enqueue(f, REFUSED_RECIPIENT);
    refuse_until_failed(f, failed);
    int64_t t1 = f->clock + 1000;
    f->clock = t1;
    f->app.cfg.smtp_url = f->dead_url;
    int64_t waiting = enqueue(f, "waiting@example.jp");
    assert_int_equal(flush_at(f, t1).retried, 1);
    f->clock = t1 + 5;
    enqueue(f, "new@example.jp");
    assert_int_equal(store_outbox_stats_read(f->conn, t1 + 100, &s), NSDB_OK);
    assert_int_equal(s.pending, 2);
    assert_int_equal(s.waiting, 1);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.oldest_pending_age, 100);
    /* the operator's list: the failed mail, then the waiting one; never the untried one */
    store_outbox_entry *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_outbox_list_troubled(f->conn, f->arena, 10, &rows, &n), NSDB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, failed);
    assert_int_equal(rows[1].id, waiting);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    smtp_global_init();
    log_set_quiet(true); /* a line per attempt otherwise; the assertions say what happened */
    const struct CMUnitTest tests[] = {
        BOTH(temporary_failures_are_retried_for_ever_at_a_capped_interval),
        BOTH(a_refusal_is_retried_for_a_day_then_the_mail_is_failed),
        BOTH(resend_puts_failed_and_waiting_mail_back_for_an_immediate_attempt),
        BOTH(resend_refuses_sent_untried_claimed_and_unknown_mail),
        BOTH(the_claim_of_a_sender_that_died_ends_with_its_lease),
        BOTH(a_claim_takes_at_most_its_limit_and_never_a_row_held_by_another),
        BOTH(two_senders_on_one_outbox_deliver_every_mail_exactly_once),
        BOTH(stats_count_pending_waiting_failed_and_the_oldest_age),
    };
    int rc = cmocka_run_group_tests_name("mailer", tests, NULL, NULL);
    smtp_global_cleanup();
    return rc;
}
