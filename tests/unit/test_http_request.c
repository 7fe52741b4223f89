/*
 * test_http_request.c — the parts of the HTTP layer that take hostile input without a server:
 * urlencoded bodies (a field without "=" once wrote into a string literal and crashed the
 * server), the client address behind trusted proxies (X-Forwarded-For), request bodies spooled
 * to a temporary file within the server-wide budget, and the slow-client watchdog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/body.h"
#include "http/conn_guard.h"
#include "http/http.h"

static const http_param *param(const http_param *p, const char *name)
{
    for (; p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static void test_urlencoded_field_without_equals_sign(void **state)
{
    (void)state;
    arena *a = arena_new();
    /* parsed from a writable copy, as the server does; the bare names must not crash */
    const char *bodies[] = {"user_id", "a&b=1", "&&=&x", "%41%42&c=%zz+d", "=v&"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char *copy = strdup(bodies[i]);
        http_param *p = http_parse_urlencoded(a, copy, strlen(copy));
        free(copy);
        if (i == 0) {
            assert_non_null(param(p, "user_id"));
            assert_string_equal(param(p, "user_id")->value, "");
        } else if (i == 1) {
            assert_string_equal(param(p, "a")->value, "");
            assert_string_equal(param(p, "b")->value, "1");
        } else if (i == 3) {
            assert_non_null(param(p, "AB"));
            assert_string_equal(param(p, "c")->value, "%zz d");
        }
    }
    arena_free(a);
}

static const char *client(const char *peer, const char *xff)
{
    static char out[64];
    http_forwarded_client(peer, xff, out, sizeof out);
    return out;
}

static void test_forwarded_for_right_most_untrusted(void **state)
{
    (void)state;
    assert_string_equal(client("10.0.0.2", NULL), "10.0.0.2");
    assert_string_equal(client("10.0.0.2", "203.0.113.7"), "203.0.113.7");
    assert_string_equal(client("10.0.0.2", "6.6.6.6, 203.0.113.7"), "203.0.113.7");
    assert_string_equal(client("10.0.0.2", "6.6.6.6,203.0.113.7 , 10.0.0.2"), "203.0.113.7");
    assert_string_equal(client("127.0.0.1", "6.6.6.6, 198.51.100.4, 127.0.0.1, ::1"),
                        "198.51.100.4");
    assert_string_equal(client("::1", "2001:db8::5"), "2001:db8::5");
    /* what the proxy wrote is not an address: the peer, never the client's left-hand part */
    assert_string_equal(client("10.0.0.2", "6.6.6.6, bogus"), "10.0.0.2");
    assert_string_equal(client("10.0.0.2", "6.6.6.6, "), "10.0.0.2");
    assert_string_equal(client("10.0.0.2", ""), "10.0.0.2");
    assert_string_equal(client("10.0.0.2", ",,,"), "10.0.0.2");
    /* only proxy hops: the peer */
    assert_string_equal(client("10.0.0.2", "127.0.0.1, 10.0.0.2"), "10.0.0.2");
    /* an over-long entry is not an address */
    char longer[300];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_string_equal(client("10.0.0.2", longer), "10.0.0.2");
}

static void body_request(http_request *req)
{
    memset(req, 0, sizeof *req);
    req->body_fd = -1;
}

static void test_body_spools_past_memory_and_maps_back(void **state)
{
    (void)state;
    http_body_budget b = {.cap = 4 * 1024 * 1024, .tmp_dir = NULL};
    http_request req;
    body_request(&req);
    size_t total = 3 * HTTP_BODY_MEMORY / 2 + 17;
    char *data = malloc(total);
    assert_non_null(data);
    for (size_t i = 0; i < total; i++)
        data[i] = (char)('a' + i % 26);
    for (size_t off = 0; off < total; off += 4000) {
        size_t n = total - off < 4000 ? total - off : 4000;
        assert_int_equal(http_body_append(&b, &req, data + off, n), NSDB_OK);
    }
    assert_true(req.body_fd >= 0);
    assert_null(req.body.data);
    assert_int_equal(atomic_load(&b.in_flight), total);
    assert_int_equal(http_body_finish(&req), NSDB_OK);
    assert_int_equal(req.body_len, total);
    assert_memory_equal(req.body_data, data, total);
    http_body_release(&b, &req);
    assert_int_equal(atomic_load(&b.in_flight), 0);
    assert_int_equal(req.body_fd, -1);
    free(data);

    /* a small body stays in memory */
    body_request(&req);
    assert_int_equal(http_body_append(&b, &req, "a=1", 3), NSDB_OK);
    assert_int_equal(http_body_finish(&req), NSDB_OK);
    assert_int_equal(req.body_fd, -1);
    assert_int_equal(req.body_len, 3);
    http_body_release(&b, &req);
}

static void test_body_budget_is_shared(void **state)
{
    (void)state;
    http_body_budget b = {.cap = 1000};
    http_request r1, r2;
    body_request(&r1);
    body_request(&r2);
    assert_true(http_body_reserve(&b, &r1, 600));
    assert_false(http_body_reserve(&b, &r2, 600));
    assert_int_equal(r2.body_reserved, 0);
    /* a body without Content-Length reserves as it arrives */
    char chunk[300] = {0};
    assert_int_equal(http_body_append(&b, &r2, chunk, 300), NSDB_OK);
    assert_int_equal(http_body_append(&b, &r2, chunk, 300), NSDB_ERR_BUSY);
    http_body_release(&b, &r1);
    assert_int_equal(http_body_append(&b, &r2, chunk, 300), NSDB_OK);
    http_body_release(&b, &r2);
    assert_int_equal(atomic_load(&b.in_flight), 0);
    /* no budget: anything goes */
    http_body_budget open = {.cap = 0};
    assert_true(http_body_reserve(&open, &r1, (size_t)1 << 40));
    http_body_release(&open, &r1);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool peer_closed(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_guard_cuts_slow_headers_and_slow_bodies(void **state)
{
    (void)state;
    conn_guard *g = NULL;
    /* 0: no thread; the test sweeps by hand at chosen times */
    assert_int_equal(conn_guard_new(0, 2048, &g), NSDB_OK);
    int headers[2], body[2], fast[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, headers), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, body), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fast), 0);
    conn_track *th = conn_guard_open(g, headers[0]);
    conn_track *tb = conn_guard_open(g, body[0]);
    conn_track *tf = conn_guard_open(g, fast[0]);
    conn_guard_phase(g, tb, CONN_BODY);
    conn_guard_phase(g, tf, CONN_BODY);
    conn_guard_body_bytes(g, tb, 100);
    conn_guard_body_bytes(g, tf, 1000000);
    double now = mono();
    /* header deadline 0 means off: nothing is ever cut */
    assert_int_equal(conn_guard_sweep(g, now + 1000), 0);
    conn_guard_free(g);

    assert_int_equal(conn_guard_new(20, 2048, &g), NSDB_OK);
    th = conn_guard_open(g, headers[0]);
    tb = conn_guard_open(g, body[0]);
    tf = conn_guard_open(g, fast[0]);
    conn_guard_phase(g, tb, CONN_BODY);
    conn_guard_phase(g, tf, CONN_BODY);
    conn_guard_body_bytes(g, tb, 100);
    conn_guard_body_bytes(g, tf, 1000000);
    now = mono();
    assert_int_equal(conn_guard_sweep(g, now + 10), 0); /* within the grace */
    assert_false(peer_closed(headers[1]));
    assert_int_equal(conn_guard_sweep(g, now + 25), 2); /* headers late; 100 bytes in 25 s */
    assert_true(peer_closed(headers[1]));
    assert_true(peer_closed(body[1]));
    assert_false(peer_closed(fast[1])); /* 1 MB in 25 s is fine */
    assert_int_equal(conn_guard_sweep(g, now + 30), 0); /* each is shut down once */
    conn_guard_close(g, th);
    conn_guard_close(g, tb);
    conn_guard_close(g, tf);
    conn_guard_free(g);
    for (int i = 0; i < 2; i++) {
        close(headers[i]);
        close(body[i]);
        close(fast[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlencoded_field_without_equals_sign),
        cmocka_unit_test(test_forwarded_for_right_most_untrusted),
        cmocka_unit_test(test_body_spools_past_memory_and_maps_back),
        cmocka_unit_test(test_body_budget_is_shared),
        cmocka_unit_test(test_guard_cuts_slow_headers_and_slow_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
