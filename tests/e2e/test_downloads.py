"""End-to-end tests of the operator's downloads (issue 13, items 1, 3 and 6): every file the board
of a cycle links — each package's label, printed list (PDF and CSV) and disc labels, each media's
ISO image, the archive of the cycle — is downloaded and checked (pdftotext, the CSV read back,
`isoinfo -l`, tarfile), the SHA-256 shown on the board is the image's, the 媒体番号 of the disc
labels is the one printed next to the institution on the list; downloads of images and of the
archive are audited; mhlw and municipal staff get 403, unknown ids 404. Several servers: a second
server on the same database and data folder (PostgreSQL under `make test-e2e-pg`) serves the files
the first one built, and a build held by another server (its database lock, or the folder's file
lock on SQLite) makes the screen's build answer 別の媒体作成…実行中 as on one host.

Needs: isoinfo (Debian genisoimage), pdftotext (poppler-utils), psql for the PostgreSQL run.
"""

import csv
import fcntl
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nsdbtest  # noqa: E402
from nsdbtest import for_each_binary, sanitizer_report  # noqa: E402
from test_media import (CHIYODA, CHUO, GOOD_PASSWORD, LIST_HEADER, MediaHelpers,  # noqa: E402
                        pdf_text, squeeze)

LINK = re.compile(r'href="(/operator/(?:packages|media|cycles)/[^"]+)"')
SHA = re.compile(r'<code class="sha256" data-media="(\d+)">([0-9a-f]{64})</code>')
# A name as long as a 医療機関名 may be (100 characters), with characters a template or a PDF
# must not run.
LONG_NAME = ("医療法人社団<b>&amp;" + "長い名前の総合病院" * 10)[:100]


def setUpModule():
    missing = [t for t in ("isoinfo", "pdftotext") if shutil.which(t) is None]
    if missing:
        raise RuntimeError("the download tests need %s (apt install genisoimage poppler-utils)"
                           % ", ".join(missing))


class DownloadHelpers(MediaHelpers):
    def shipped(self):
        """Today's cycle with a package of CHIYODA (two institutions, one with LONG_NAME) built
        and packed: (cycle id, package, {media id: media}, {institution code: [user IDs]})."""
        def make():
            cycle = self.today_cycle()[0]["id"]
            institutions = self.new_institutions(CHIYODA, 2)
            code, _, rows = institutions[1]
            rows = [(r[0], LONG_NAME) + tuple(r[2:]) for r in rows]
            institutions[1] = (code, LONG_NAME, rows)
            users = self.register(CHIYODA, institutions)
            self.media_build(cycle)
            packages = [p for p in self.package_build(cycle) if p["municipality"] == CHIYODA[0]]
            self.assertEqual(len(packages), 1, packages)
            media = {mid: m for mid, m in self.media_list(cycle).items()
                     if mid in packages[0]["media"]}
            return cycle, packages[0], media, users
        return self._cached("_shipped", make)

    def board_files(self, client, cycle):
        """(links, {media id: SHA-256}) of the board of cycle."""
        r = client.get("/operator/media?cycle=" + cycle)
        self.assertStatus(r, 200)
        return LINK.findall(r.text), {int(k): v for k, v in SHA.findall(r.text)}

    def download(self, client, path):
        r = client.get(path)
        self.assertStatus(r, 200)
        self.assertIn("attachment", r.header("Content-Disposition") or "")
        return r.body


class DownloadTests(DownloadHelpers):
    """Every file of the board, downloaded and checked."""

    def test_every_file_on_the_board_downloads_and_checks(self):
        cycle, package, media, users = self.shipped()
        op = self.operator()
        links, shas = self.board_files(op, cycle)
        pid = package["package_id"]
        for kind in ("label.pdf", "list.pdf", "list.csv", "discs.pdf"):
            self.assertIn("/operator/packages/%d/%s" % (pid, kind), links)
        for mid in media:
            self.assertIn("/operator/media/%d/image.iso" % mid, links)
        self.assertIn("/operator/cycles/%s/media.tar" % cycle, links)

        # the label names the municipality; the list PDF every user and each 媒体番号 next to
        # its institution; the CSV the same users with the header of SPEC §6
        label = squeeze(pdf_text(self.download(op, "/operator/packages/%d/label.pdf" % pid)))
        self.assertIn(CHIYODA[1], label)
        listing = squeeze(pdf_text(self.download(op, "/operator/packages/%d/list.pdf" % pid)))
        for mid, m in media.items():
            self.assertIn("媒体番号%d" % mid, listing)
        for ids in users.values():
            for user_id in ids:
                self.assertIn(user_id, listing)
        body = self.download(op, "/operator/packages/%d/list.csv" % pid).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        self.assertEqual(rows[0], LIST_HEADER)
        self.assertEqual(sorted(r[5] for r in rows[1:]),
                         sorted(u for ids in users.values() for u in ids))

        # the disc labels: each media's institution (code; the long name cut, never spilling),
        # municipality, cycle and 媒体番号, two labels to a page
        discs = pdf_text(self.download(op, "/operator/packages/%d/discs.pdf" % pid))
        self.assertEqual(discs.count("\f"), (len(media) + 1) // 2)
        flat = squeeze(discs)
        for mid, m in media.items():
            self.assertIn("媒体番号%d" % mid, flat)
            self.assertIn("医療機関ID%s" % m["institution"], flat)
        self.assertIn(squeeze("%s %s" % CHIYODA[:2]), flat)
        self.assertIn("媒体送付サイクル%s" % cycle, flat)
        self.assertIn("医療法人社団<b>&amp;", flat)  # literal text, not markup
        self.assertIn("千代田区試験病院", flat)

        # each image: what isoinfo lists, and the SHA-256 the board shows (and the build recorded)
        with tempfile.TemporaryDirectory() as tmp:
            for mid, m in media.items():
                data = self.download(op, "/operator/media/%d/image.iso" % mid)
                self.assertEqual(hashlib.sha256(data).hexdigest(), shas[mid])
                self.assertEqual(shas[mid], m["sha256"])
                path = os.path.join(tmp, "%d.iso" % mid)
                with open(path, "wb") as f:
                    f.write(data)
                listing = subprocess.run(["isoinfo", "-l", "-i", path], stdout=subprocess.PIPE,
                                         check=True).stdout.decode("utf-8", "replace")
                self.assertIn("CLIENT.P12", listing.upper())

        # the archive: every package file and every image of the cycle, the images intact
        data = self.download(op, "/operator/cycles/%s/media.tar" % cycle)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            names = set(tar.getnames())
            base = "%s/packages/%s_%02d_" % (cycle, CHIYODA[0], package.get("seq", 1))
            for kind in ("label.pdf", "list.pdf", "list.csv"):
                self.assertIn(base + kind, names)
            for mid, m in self.media_list(cycle).items():
                member = "%s/%s" % (cycle, os.path.basename(m["iso"]))
                self.assertIn(member, names)
                self.assertEqual(hashlib.sha256(tar.extractfile(member).read()).hexdigest(),
                                 m["sha256"])

    def test_image_and_archive_downloads_are_audited(self):
        cycle, package, media, _ = self.shipped()
        op = self.operator()
        mid = sorted(media)[0]
        self.download(op, "/operator/media/%d/image.iso" % mid)
        self.download(op, "/operator/cycles/%s/media.tar" % cycle)
        rows = self.audit_rows("media_iso_download")
        self.assertTrue(any(r.get("target") == "media:%d" % mid for r in rows), rows)
        self.assertTrue(any(media[mid]["sha256"] in (r.get("detail") or "") for r in rows), rows)
        rows = self.audit_rows("media_archive_download")
        self.assertTrue(any(r.get("target") == "cycle:%s" % cycle for r in rows), rows)

    def test_mhlw_reads_the_board_but_downloads_nothing(self):
        cycle, package, media, _ = self.shipped()
        mhlw, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 花子")
        r = mhlw.get("/operator/media?cycle=" + cycle)
        self.assertStatus(r, 200)
        self.assertEqual(LINK.findall(r.text), [])
        self.assertEqual(SHA.findall(r.text), [])
        op_links, _ = self.board_files(self.operator(), cycle)
        self.assertGreaterEqual(len(op_links), 4 + len(media) + 1)
        staff = self.staff(CHIYODA)
        for path in op_links:
            self.assertStatus(mhlw.get(path), 403)
            self.assertStatus(staff.get(path), 403)

    def test_unknown_ids_answer_404(self):
        cycle, package, media, _ = self.shipped()
        op = self.operator()
        for path in ("/operator/packages/999999/label.pdf", "/operator/packages/999999/list.csv",
                     "/operator/packages/999999/discs.pdf", "/operator/packages/0/list.pdf",
                     "/operator/packages/abc/label.pdf", "/operator/packages/-1/label.pdf",
                     "/operator/media/999999/image.iso", "/operator/media/1x/image.iso",
                     "/operator/cycles/2099-01-01/media.tar",
                     "/operator/cycles/..%2F..%2Fca/media.tar",
                     "/operator/cycles/%2E%2E/media.tar"):
            self.assertStatus(op.get(path), 404)


class SeveralServersTests(DownloadHelpers):
    """Two servers on one database and one (shared) data folder."""

    @classmethod
    def setUpClass(cls):
        # both servers build from the screen with the same template
        cls._template_tmp = tempfile.TemporaryDirectory(prefix="nsdb-e2e-template-")
        cls.SERVE_ARGS = ("--media-template",
                          cls.write_template(os.path.join(cls._template_tmp.name, "template")))
        super().setUpClass()
        cls.second = nsdbtest.Server(cls.BIN, cls.data_dir, extra_args=cls.SERVE_ARGS,
                                     database_url=cls.pg.url if cls.pg else None)
        # its logs beside the first server's, not over them
        cls.second._stderr_path = os.path.join(cls._tmp.name, "second.stderr")
        cls.second._stdout_path = os.path.join(cls._tmp.name, "second.stdout")
        cls.second.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls._template_tmp.cleanup()
            code = cls.second.stop()
            err = cls.second.stderr()
            if sanitizer_report(err):
                raise AssertionError("second server: sanitizer report:\n%s" % err[-4000:])
            if code != 0:
                raise AssertionError("second server exited %r:\n%s" % (code, err[-4000:]))
        finally:
            super().tearDownClass()

    def second_operator(self):
        c = nsdbtest.Client(self.second.base_url, server=self.second)
        r = c.login(self.operator().user_id, GOOD_PASSWORD)
        self.assertEqual(r.status, 303, r)
        return c

    def hold_build_lock(self):
        """A holder of the build lock as another server would hold it: on PostgreSQL a session
        with the advisory lock (psql, kept open), on SQLite the data folder's file lock. Returns
        a function that releases it."""
        if self.pg is not None:
            p = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", self.pg.url],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            p.stdin.write("SELECT pg_advisory_lock(1853056098, 1);\n")
            p.stdin.flush()
            self.assertEqual(p.stdout.readline().strip(), "")  # void result: one empty line

            def release():
                p.stdin.write("\\q\n")
                p.stdin.close()
                p.wait(timeout=30)
                p.stdout.close()
                p.stderr.close()
            return release
        media_dir = os.path.join(self.data_dir, "media")
        os.makedirs(media_dir, exist_ok=True)
        f = open(os.path.join(media_dir, ".build.lock"), "a")
        fcntl.flock(f, fcntl.LOCK_EX)

        def release_file():
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
        return release_file

    def test_a_build_held_by_another_server_is_refused_then_the_other_serves_the_files(self):
        cycle = self.today_cycle()[0]["id"]
        self.register(CHUO, self.new_institutions(CHUO, 2))
        second = self.second_operator()
        release = self.hold_build_lock()
        try:
            token = second.page_csrf("/operator/media?cycle=" + cycle)
            r = second.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
            self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
            self.assertIn("別の媒体作成（画面または nsdb media build）が実行中です",
                          self.wait_for_build(second, r.location))
            self.assertEqual(self.media_list(cycle), {})
        finally:
            release()
        # released: the first server builds; the second serves what it built
        op = self.operator()
        token = op.page_csrf("/operator/media?cycle=" + cycle)
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        self.assertIn("媒体を作成しました", self.wait_for_build(op, r.location))
        media = self.media_list(cycle)
        self.assertEqual(len(media), 2)
        _, shas = self.board_files(second, cycle)
        for mid, m in media.items():
            data = self.download(second, "/operator/media/%d/image.iso" % mid)
            self.assertEqual(hashlib.sha256(data).hexdigest(), m["sha256"])
            self.assertEqual(shas[mid], m["sha256"])


for_each_binary(globals(), DownloadTests, SeveralServersTests, typed_passwords=(GOOD_PASSWORD,))
