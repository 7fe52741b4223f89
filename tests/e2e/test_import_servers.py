"""End-to-end tests of imports and several servers on one database (issue 11).

A server that starts used to mark every batch left in checking or writing as failed, also one
that another live server on the same PostgreSQL was still writing (that import then stopped at
its next chunk). Now each batch names its server (host name and data folder) and every server
stamps the batches it runs every few seconds: a server that starts fails only its own leftovers
and those whose stamp is stale, and every server fails a running batch once its stamp goes stale
(its server died and never came back).

The other server is played by the database: the test hands a running batch to "elsewhere" with
a fresh (or, later, a stale) stamp, and kills and restarts the class's server. Runs against both
binaries and, under scripts/pg-test.sh, on PostgreSQL."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import FONTCONFIG_LSAN_ENV, for_each_binary, visible_text  # noqa: E402
from test_flow2 import STAFF_PASSWORD, Flow2Base, csv_bytes, import_errors  # noqa: E402
from test_import_background import RESTART_REASON, big_rows  # noqa: E402

ELSEWHERE = "elsewhere.example:/srv/nsdb"


class ImportServers(Flow2Base):
    """A running batch of another server survives this server's restart until its stamp is stale."""

    # chunks paused so the import runs for many seconds; a stamp every 0.3 s (stale after 1.8 s)
    SERVE_ENV = dict(FONTCONFIG_LSAN_ENV, NSDB_IMPORT_CHUNK_PAUSE_MS="200",
                     NSDB_IMPORT_HEARTBEAT_MS="300")

    def batch_state(self, batch):
        return self.db_query("SELECT state, failure FROM import_batches WHERE id = ?", batch)[0]

    def wait_state(self, batch, states, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.batch_state(batch)
            if state[0] in states:
                return state
            time.sleep(0.1)
        self.fail("batch %d not in %s within %d s: %r" % (batch, states, timeout, state))

    def restart_killed(self):
        srv = self.server
        srv.proc.kill()
        srv.proc.wait()
        srv.proc = None
        srv.start()
        self.state()["staff"] = {}

    def test_a_restart_leaves_another_servers_import_until_its_stamp_is_stale(self):
        c = self.staff()
        rows = big_rows(700000, n=20000, family="他所")
        r = self.upload([("big.csv", csv_bytes(rows, bom=True))], c)
        self.assertEqual(r.status, 303, "%r\nerrors: %s" % (r, import_errors(r.text)[:5]))
        batch = int(r.location.rsplit("/", 1)[1])
        self.wait_state(batch, ("writing",))
        mine = self.db_query("SELECT owner FROM import_batches WHERE id = ?", batch)[0][0]
        self.assertTrue(mine.endswith(":" + os.path.realpath(self.data_dir)), mine)
        # the batch is now another live server's: its stamp is fresh for an hour
        self.db_exec("UPDATE import_batches SET owner = ?, heartbeat_at = ? WHERE id = ?",
                      ELSEWHERE, int(time.time()) + 3600, batch)
        self.restart_killed()
        # this server's start and its keeper leave it alone while the stamp is fresh
        time.sleep(2.0)
        self.assertEqual(self.batch_state(batch)[0], "writing")
        # and a batch of this server's own from before the kill is failed at start
        own = self.db_query("SELECT COUNT(*) FROM import_batches WHERE owner = ? "
                            "AND state IN ('checking', 'writing')", mine)[0][0]
        self.assertEqual(own, 0)
        # the other server dies: once its stamp is stale, this server fails the batch
        self.db_exec("UPDATE import_batches SET heartbeat_at = ? WHERE id = ?",
                      int(time.time()) - 3600, batch)
        state, failure = self.wait_state(batch, ("failed",), timeout=30)
        self.assertEqual(failure, RESTART_REASON)
        # a command-line user is made while its rows go (a removal chunk holds the command
        # line's exclusive lock for a short while only)
        page = self.staff().get("/inst-users/import/%d" % batch)
        self.assertStatus(page, 200)
        self.assertIn(RESTART_REASON, visible_text(page.text))
        # its rows go, and the municipality can import again
        deadline = time.monotonic() + 60
        while self.db_query("SELECT COUNT(*) FROM users WHERE batch_id = ?", batch)[0][0]:
            self.assertLess(time.monotonic(), deadline, "the failed batch's users stay")
            time.sleep(0.2)
        again = self.upload([("small.csv", csv_bytes([self.row(self.institution())]))],
                            self.staff())
        self.assertEqual(again.status, 303, again)

    def test_a_restart_fails_its_own_unfinished_import_at_once(self):
        c = self.staff()
        rows = big_rows(720000, n=20000, family="自所")
        r = self.upload([("big.csv", csv_bytes(rows, bom=True))], c)
        self.assertEqual(r.status, 303, "%r\nerrors: %s" % (r, import_errors(r.text)[:5]))
        batch = int(r.location.rsplit("/", 1)[1])
        self.wait_state(batch, ("writing",))
        # a stamp fresh for an hour does not keep a batch of this server's own from before
        self.db_exec("UPDATE import_batches SET heartbeat_at = ? WHERE id = ?",
                      int(time.time()) + 3600, batch)
        self.restart_killed()  # the server answers /healthz only after its start has run
        self.assertEqual(self.batch_state(batch), ("failed", RESTART_REASON))


for_each_binary(globals(), ImportServers, typed_passwords=(STAFF_PASSWORD,))
