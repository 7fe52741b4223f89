"""End-to-end tests of issue 13 items 4 and 5: what a media holds and the VPN certificates'
lifecycle. The image has no two paths that Windows (which reads Joliet names without case) would
take for one: the certificate sits in 証明書/, apart from the template's VPN/; a template whose
names clash, or larger than a single-layer DVD (a sparse file: sizes are read, not contents), is
refused before anything is built. Reissuing a damaged media revokes the old certificate:
`nsdb ca crl | openssl crl -noout -text` lists its serial, `openssl verify -crl_check` refuses the
old certificate and accepts the new one; the operator downloads the CRL (DER and PEM), others get
403; an institution whose users are all suspended can have its certificate revoked
(`nsdb ca revoke`); `nsdb backup` names ca/ca.key.

Needs: isoinfo (genisoimage), openssl, pdftotext (poppler-utils).
"""

import os
import re
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from nsdbtest import for_each_binary, visible_text  # noqa: E402
from test_media import (CHIYODA, GOOD_PASSWORD, OSAKA, PASSPHRASE_IN_TEXT, SAPPORO,  # noqa: E402
                        MediaHelpers, joliet_tree, pdf_text, rock_ridge_read, run)

DVD_BYTES = 4_700_000_000


def crl_text(pem_or_der, der=False):
    argv = ["openssl", "crl", "-noout", "-text"] + (["-inform", "DER"] if der else [])
    return run(argv, data=pem_or_der).stdout.decode("utf-8", "replace")


def revoked_serials(text):
    return set(re.findall(r"Serial Number:\s*([0-9A-F]+)", text))


def crl_number(text):
    return int(re.search(r"X509v3 CRL Number:\s*\n\s*(\d+)", text).group(1))


class CrlHelpers(MediaHelpers):

    def crl(self):
        r = self.cli("ca", "crl")
        self.assertEqual(r.code, 0, r)
        self.assertTrue(r.stdout.startswith("-----BEGIN X509 CRL-----"), r)
        return r.stdout.encode()

    def serial_of(self, media_id):
        return self.db_query("SELECT cert_serial FROM media WHERE id = ?", media_id)[0][0]

    def receive(self, muni, package_id):
        """Receives the package as muni's staff; {media id: passphrase} from its sheet."""
        c = self.staff(muni)
        self.assertRedirect(c.post("/media/packages/%d/receive" % package_id,
                                   {"csrf": c.page_csrf("/media")}), "/media?done=received")
        text = pdf_text(c.get("/media/packages/%d/passphrases.pdf" % package_id).body)
        out = {}
        for page in text.split("\f"):
            m = re.search(r"媒体番号\s+(\d+)\s", page)
            found = PASSPHRASE_IN_TEXT.findall(page)
            if m and found:
                out[int(m.group(1))] = found[0]
        return out

    def certificate(self, iso, passphrase, name):
        """The client certificate (PEM path) out of the image's PKCS#12."""
        work = os.path.join(self._tmp.name, "certs")
        os.makedirs(work, exist_ok=True)
        p12 = os.path.join(work, name + ".p12")
        with open(p12, "wb") as f:
            f.write(rock_ridge_read(iso, "/証明書/client.p12"))
        pem = os.path.join(work, name + ".pem")
        run(["openssl", "pkcs12", "-in", p12, "-passin", "pass:" + passphrase, "-nokeys",
             "-clcerts", "-out", pem])
        return pem

    def verify(self, cert, crl_pem):
        path = os.path.join(self._tmp.name, "crl.pem")
        with open(path, "wb") as f:
            f.write(crl_pem)
        return run(["openssl", "verify", "-crl_check", "-CAfile",
                    os.path.join(self.data_dir, "ca", "ca.crt"), "-CRLfile", path, cert],
                   check=False)


class RevocationTests(CrlHelpers):
    """A damaged media's reissue revokes the old certificate; the CRL says so and verifies."""

    def test_reissue_revokes_the_old_certificate_and_openssl_verify_tells_them_apart(self):
        package, media, _ = self.ship(OSAKA, 2)
        passphrases = self.receive(OSAKA, package["package_id"])
        damaged, kept = sorted(media)
        this, nxt = self.today_cycle()
        before = self.crl()
        earlier = revoked_serials(crl_text(before))  # other tests of this server revoke too
        c = self.staff(OSAKA)
        self.assertRedirect(c.post("/media/%d/damage" % damaged,
                                   {"csrf": c.page_csrf("/media"), "note": "ディスクが割れていた"}),
                            "/media?done=damaged")
        # a damage report alone revokes nothing: the reissue does
        self.assertEqual(revoked_serials(crl_text(self.crl())), earlier)
        reissue = self.media_build(nxt["id"])
        self.assertEqual([b["reissue"] for b in reissue], [True])
        old_serial = self.serial_of(damaged)
        after = self.crl()
        text = crl_text(after)
        self.assertEqual(revoked_serials(text) - earlier, {old_serial})
        self.assertIn("Superseded", text)
        self.assertRegex(text, r"Revocation Date: \w+ +\d+ [\d:]+ \d{4} GMT")
        self.assertIn("Version 2", text)
        self.assertIn("Authority Key Identifier", text)
        self.assertRegex(text, r"Next Update: ")
        self.assertGreater(crl_number(text), crl_number(crl_text(before)))
        self.assertNotIn(self.serial_of(kept), revoked_serials(text))
        # the CRL is the CA's: its signature verifies with ca.crt
        path = os.path.join(self._tmp.name, "after.crl")
        with open(path, "wb") as f:
            f.write(after)
        p = run(["openssl", "crl", "-in", path, "-noout", "-CAfile",
                 os.path.join(self.data_dir, "ca", "ca.crt")], check=False)
        self.assertIn("verify OK", (p.stdout + p.stderr).decode())
        # the old certificate fails with the CRL, the new one (and the kept one) passes
        new_package = [p for p in self.package_build(nxt["id"]) if p["municipality"] == OSAKA[0]][0]
        new_passphrases = self.receive(OSAKA, new_package["package_id"])
        old_cert = self.certificate(media[damaged]["iso"], passphrases[damaged], "old")
        new_cert = self.certificate(reissue[0]["iso"], new_passphrases[reissue[0]["media_id"]], "new")
        kept_cert = self.certificate(media[kept]["iso"], passphrases[kept], "kept")
        refused = self.verify(old_cert, after)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("certificate revoked", (refused.stdout + refused.stderr).decode())
        for cert in (new_cert, kept_cert):
            ok = self.verify(cert, after)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            self.assertIn(b": OK", ok.stdout)
        # audited: the revocation with the reissue, every CRL signed
        revoked = self.audit_rows("cert_revoked", target="media:%d" % damaged)
        self.assertEqual(len(revoked), 1, revoked)
        self.assertEqual(revoked[0]["detail"], "superseded")
        self.assertGreaterEqual(len(self.audit_rows("crl_issued", result="ok")), 3)
        # building again revokes nothing twice
        self.assertEqual(self.media_build(nxt["id"]), [])
        self.assertEqual(revoked_serials(crl_text(self.crl())) - earlier, {old_serial})

    def test_an_institution_with_every_user_suspended_can_have_its_certificate_revoked(self):
        package, media, users = self.ship(CHIYODA, 1)
        (mid,) = media
        (code,) = users
        r = self.cli("ca", "revoke", "--institution", code)
        self.assertEqual(r.code, 1, r)
        self.assertIn("利用中のユーザが 1 人います", r.stderr)
        self.assertNotIn(self.serial_of(mid), revoked_serials(crl_text(self.crl())))
        c = self.staff(CHIYODA)
        for user_id in users[code]:
            r = c.post("/inst-users/%s/suspend" % user_id, {"csrf": c.page_csrf("/inst-users")})
            self.assertEqual(r.status, 303, r)
        r = self.cli("ca", "revoke", "--institution", code)
        self.assertEqual(r.code, 0, r)
        self.assertIn("証明書 1 件を失効させました", r.stdout)
        text = crl_text(self.crl())
        self.assertIn(self.serial_of(mid), revoked_serials(text))
        self.assertIn("Cessation Of Operation", text)
        self.assertEqual(len(self.audit_rows("cert_revoked", target="media:%d" % mid)), 1)
        # again: nothing left to revoke
        r = self.cli("ca", "revoke", "--institution", code)
        self.assertEqual((r.code, r.stdout.strip()), (0, "証明書 0 件を失効させました（nsdb ca crl で"
                                                          "失効リストを VPN サーバへ）。"))
        r = self.cli("ca", "revoke")
        self.assertEqual(r.code, 2, r)
        r = self.cli("ca", "revoke", "--institution", "1234567890")
        self.assertEqual(r.code, 1, r)

    def test_a_certificate_near_its_end_gets_a_renewal_media_in_the_next_build(self):
        self.skip_on_postgresql("the test backdates a media in the SQLite file")
        package, media, users = self.ship(SAPPORO, 1)
        (mid,) = media
        (code,) = users
        cycle = self.today_cycle()[0]["id"]

        def due():
            r = self.cli("ca", "renewals", "--json")
            self.assertEqual(r.code, 0, r)
            return {d["media_id"]: d for d in r.json()}

        self.assertNotIn(mid, due())
        # issued 1096 − 89 days ago: the certificate ends in 89 days
        db = sqlite3.connect(self.database_file(), timeout=30)
        with db:
            db.execute("UPDATE media SET created_at = created_at - ? WHERE id = ?",
                       ((1096 - 89) * 86400, mid))
        db.close()
        listed = due()
        self.assertIn(mid, listed)
        self.assertEqual((listed[mid]["municipality"], listed[mid]["institution"]), (SAPPORO[0], code))
        board = visible_text(self.operator().get("/operator/media?cycle=" + cycle).text)
        self.assertIn("VPN 証明書の更新と失効", board)
        section = board[board.index("VPN 証明書の更新と失効"):]
        self.assertRegex(section, r"%d\s+%s 札幌市\s+%s 札幌市試験病院\d+\s+%s"
                         % (mid, SAPPORO[0], code, listed[mid]["expires"]))
        # the next build makes a renewal media with a new certificate, once
        built = self.media_build(cycle)
        self.assertEqual([(b["municipality"], b["institution"], b["reissue"]) for b in built],
                         [(SAPPORO[0], code, True)])
        new = built[0]["media_id"]
        self.assertNotEqual(self.serial_of(new), self.serial_of(mid))
        self.assertEqual(self.media_list(cycle)[new]["status"], "created")
        self.assertIn("/証明書/client.p12", {re.sub(r";1$", "", p) for p in joliet_tree(built[0]["iso"])})
        self.assertEqual(len(self.audit_rows("media_renewed", target="media:%d" % mid)), 1)
        self.assertNotIn(mid, due())
        self.assertEqual(self.media_build(cycle), [])
        # the old certificate stays valid until the new disc is in use
        self.assertNotIn(self.serial_of(mid), revoked_serials(crl_text(self.crl())))

    def test_operator_downloads_the_crl_and_nobody_else_does(self):
        op = self.operator()
        r = op.get("/operator/ca.crl")
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "application/pkix-crl")
        self.assertIn("Version 2", crl_text(r.body, der=True))
        number = crl_number(crl_text(r.body, der=True))
        r = op.get("/operator/ca.crl.pem")
        self.assertStatus(r, 200)
        self.assertTrue(r.body.startswith(b"-----BEGIN X509 CRL-----"))
        self.assertGreater(crl_number(crl_text(r.body)), number)
        self.assertTrue(self.audit_rows("crl_issued", actor=op.user_id))
        staff = self.staff(SAPPORO)
        mhlw, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 失効")
        for who, c in (("staff", staff), ("mhlw", mhlw)):
            for path in ("/operator/ca.crl", "/operator/ca.crl.pem"):
                with self.subTest(role=who, path=path):
                    self.assertStatus(c.get(path), 403)
        anon = self.client()
        self.assertRedirect(anon.get("/operator/ca.crl"), "/login")

    def test_backup_names_the_ca_key(self):
        self.skip_on_postgresql("nsdb backup copies the SQLite file")
        with tempfile.TemporaryDirectory() as tmp:
            r = self.cli("backup", os.path.join(tmp, "backup.sqlite3"))
            self.assertEqual(r.code, 0, r)
            self.assertIn("secret.key", r.stdout)
            self.assertIn(os.path.join(self.data_dir, "ca", "ca.key"), r.stdout)


class MediaContentTests(CrlHelpers):
    """No two paths that differ only in case; nothing over a single-layer DVD."""

    def template_copy(self, name):
        root = os.path.join(self._tmp.name, name)
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.template_dir(), root)
        return root

    def test_the_image_has_no_paths_that_differ_only_in_case(self):
        cycle = self.today_cycle()[0]["id"]
        self.register(SAPPORO, self.new_institutions(SAPPORO, 1))
        (built,) = self.media_build(cycle)
        listing = run(["isoinfo", "-J", "-f", "-i", built["iso"]]).stdout.decode("utf-8", "replace")
        paths = [line.strip() for line in listing.splitlines() if line.strip()]
        self.assertIn("/VPN", paths)
        self.assertEqual(len({p.lower() for p in paths}), len(paths), paths)
        joliet = {re.sub(r";1$", "", p) for p in joliet_tree(built["iso"])}
        self.assertIn("/証明書/client.p12", joliet)
        self.assertIn("/証明書/nsdb-vpn.ovpn", joliet)
        self.assertIn("/VPN/vpnclient-setup.msi", joliet)
        self.assertEqual(len({p.lower() for p in joliet}), len(joliet), sorted(joliet))
        profile = rock_ridge_read(built["iso"], "/証明書/nsdb-vpn.ovpn").decode("utf-8")
        self.assertIn("証明書/client.p12", profile)

    def test_a_template_with_names_that_clash_is_refused_before_anything_is_built(self):
        cycle = self.today_cycle()[0]["id"]
        users = self.register(CHIYODA, self.new_institutions(CHIYODA, 1))
        template = self.template_copy("clash")
        os.makedirs(os.path.join(template, "vpn"))
        with open(os.path.join(template, "vpn", "readme.txt"), "w") as f:
            f.write("x")
        r = self.cli("media", "build", "--cycle", cycle, "--template", template, "--json")
        self.assertEqual(r.code, 1, r)
        self.assertIn("大文字と小文字だけが違う名前が2つあります:「/VPN」と「/vpn」", r.stderr)
        self.assertEqual(r.json(), [])
        self.assertFalse({m["institution"] for m in self.media_list(cycle).values()} & set(users))
        # a file of ours in the template is refused too
        template = self.template_copy("ours")
        os.makedirs(os.path.join(template, "証明書"))
        with open(os.path.join(template, "証明書", "client.p12"), "wb") as f:
            f.write(b"0")
        r = self.cli("media", "build", "--cycle", cycle, "--template", template, "--json")
        self.assertEqual(r.code, 1, r)
        self.assertIn("証明書/client.p12", r.stderr)
        # with the clash gone, the build goes on
        built = self.media_build(cycle)
        self.assertEqual({b["institution"] for b in built}, set(users))

    def test_a_template_over_a_single_layer_dvd_is_refused_before_anything_is_built(self):
        cycle = self.today_cycle()[0]["id"]
        users = self.register(OSAKA, self.new_institutions(OSAKA, 1))
        template = self.template_copy("huge")
        with open(os.path.join(template, "動画", "長い動画.mp4"), "wb") as f:
            f.truncate(DVD_BYTES)  # sparse: the template is now over 4.7 GB and costs nothing
        media_dir = os.path.join(self.data_dir, "media", cycle)
        images = set(os.listdir(media_dir)) if os.path.isdir(media_dir) else set()
        r = self.cli("media", "build", "--cycle", cycle, "--template", template, "--json")
        self.assertEqual(r.code, 1, r)
        self.assertIn("片面一層 DVD の容量（4,700,000,000 バイト）を超えています", r.stderr)
        self.assertIn("媒体は作成していません", r.stderr)
        self.assertEqual(r.json(), [])
        self.assertFalse({m["institution"] for m in self.media_list(cycle).values()} & set(users))
        after = set(os.listdir(media_dir)) if os.path.isdir(media_dir) else set()
        self.assertEqual(after, images)
        self.assertEqual(set(b["institution"] for b in self.media_build(cycle)), set(users))


for_each_binary(globals(), RevocationTests, MediaContentTests, typed_passwords=(GOOD_PASSWORD,))
