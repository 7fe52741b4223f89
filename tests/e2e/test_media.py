"""End-to-end tests of the media cycle (issue 5, items 1–5; SPEC §6): the cycle calendar against the
seed's dates, media build (ISO 9660 images checked with isoinfo and a small Joliet reader here, the
client certificate in the PKCS#12 opened with the passphrase printed on the 媒体受領 screen and
verified against the CA with openssl), packing of 1, 15, 16 and 31 media, the label and list PDFs
(pdftotext), tracking numbers, the municipal screens (receive, passphrases, forward, damage →
reissue in the next cycle) with the scope rule of SPEC §1, and the operator's screens (cycle
calendar, status board, build and pack from the screen). Every transition is checked in the audit
log (`nsdb audit --json`).

Registrations are made the way municipal staff make them: `POST /inst-users/import` with a CSV.
They are recorded with the cycle of the day (Japan time), so every test works in today's cycle and
the reissue in the next one; a test that needs its own package registers new institutions, builds
and packs the cycle, and gets a package with only its media.

Every class runs once per binary (see nsdbtest.for_each_binary), each with its own server.
Needs: isoinfo and genisoimage's tools (Debian genisoimage), openssl, pdftotext (poppler-utils),
sha256sum.
"""

import csv
import fcntl
import datetime
import io
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nsdbtest  # noqa: E402
from nsdbtest import binary_label, for_each_binary, sanitizer_report, visible_text  # noqa: E402

GOOD_PASSWORD = "correct horse battery staple 2026"

CSV_HEADER = ("医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,"
              "氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス")
LIST_HEADER = ["#", "公共団体ID", "公共団体名", "医療機関ID", "医療機関名", "ユーザID"]
CYCLE_FIELDS = {"id", "registration_from", "registration_to", "media_from", "media_to",
                "delivery_from", "delivery_to"}
MEDIA_LIST_FIELDS = {"media_id", "cycle", "municipality", "institution", "iso", "sha256", "status",
                     "kind", "size_bytes", "package_id"}
PASSPHRASE = re.compile(r"^[2-9A-HJKMNP-Z]{20}$")
PASSPHRASE_IN_TEXT = re.compile(r"(?<![0-9A-Z])[2-9A-HJKMNP-Z]{20}(?![0-9A-Z])")
STATUSES = ("created", "packed", "shipped", "received", "forwarded", "damaged", "reissued")
JST = datetime.timezone(datetime.timedelta(hours=9))

# (地方公共団体コード, 名称, 郵便番号, 所属先住所): real codes, so the check digits are right.
CHIYODA = ("131016", "千代田区", "100-8511", "東京都千代田区九段南1-2-1")
CHUO = ("131024", "中央区", "104-8404", "東京都中央区築地1-1-1")
MINATO = ("131032", "港区", "105-8511", "東京都港区芝公園1-5-25")
SHINJUKU = ("131041", "新宿区", "160-8484", "東京都新宿区歌舞伎町1-4-1")
SAPPORO = ("011002", "札幌市", "060-8611", "北海道札幌市中央区北1条西2丁目")
OSAKA = ("271004", "大阪市", "530-8201", "大阪府大阪市北区中之島1-3-20")

# The seed (参考② 媒体送付の運用サイクル): 先行リリース cycles from 2023-08-21 and the fixed cycles
# after 2023-09-25. (registration, media creation, delivery); 2023-10-09 (スポーツの日) is a holiday,
# so the cycle after 9/25–10/6 starts on 10/10.
SEED_CYCLES = [
    (("2023-08-21", "2023-08-22"), ("2023-08-23", "2023-08-30"), ("2023-08-29", "2023-09-14")),
    (("2023-08-23", "2023-08-30"), ("2023-08-31", "2023-09-07"), ("2023-09-01", "2023-09-20")),
    (("2023-08-31", "2023-09-07"), ("2023-09-08", "2023-09-22"), ("2023-09-15", "2023-10-10")),
    (("2023-09-08", "2023-09-22"), ("2023-09-25", "2023-10-06"), ("2023-10-02", "2023-10-23")),
    (("2023-09-25", "2023-10-06"), ("2023-10-10", "2023-10-23"), ("2023-10-17", "2023-11-07")),
    (("2023-10-10", "2023-10-23"), ("2023-10-24", "2023-11-08"), ("2023-10-31", "2023-11-21")),
]

# Japanese public holidays (国民の祝日, 振替休日 and 国民の休日) of 2023–2025, to check that the gaps
# between registration windows are days off and nothing else. The full calendar is checked against
# @holiday-jp/holiday_jp through 2050 by the unit tests.
HOLIDAYS = set("""
2023-01-01 2023-01-02 2023-01-09 2023-02-11 2023-02-23 2023-03-21 2023-04-29 2023-05-03 2023-05-04
2023-05-05 2023-07-17 2023-08-11 2023-09-18 2023-09-23 2023-10-09 2023-11-03 2023-11-23
2024-01-01 2024-01-08 2024-02-11 2024-02-12 2024-02-23 2024-03-20 2024-04-29 2024-05-03 2024-05-04
2024-05-05 2024-05-06 2024-07-15 2024-08-11 2024-08-12 2024-09-16 2024-09-22 2024-09-23 2024-10-14
2024-11-03 2024-11-04 2024-11-23
2025-01-01 2025-01-13 2025-02-11 2025-02-23 2025-02-24 2025-03-20 2025-04-29 2025-05-03 2025-05-04
2025-05-05 2025-05-06 2025-07-21 2025-08-11 2025-09-15 2025-09-23 2025-10-13 2025-11-03 2025-11-23
2025-11-24
""".split())

NOT_FOUND_PACKAGE = "指定された梱包は見つかりません"
NOT_FOUND_MEDIA = "指定された媒体は見つかりません"


def setUpModule():
    missing = [t for t in ("isoinfo", "openssl", "pdftotext", "sha256sum") if shutil.which(t) is None]
    if missing:
        raise RuntimeError("the media tests need %s (apt install genisoimage openssl poppler-utils "
                           "coreutils)" % ", ".join(missing))


# --------------------------------------------------------------------------------------------
# small helpers


def day(s):
    return datetime.date.fromisoformat(s)


def today_jst():
    return datetime.datetime.now(JST).date()


def is_day_off(d):
    """Saturday, Sunday, a holiday of HOLIDAYS or 12/29–1/3."""
    return (d.weekday() >= 5 or d.isoformat() in HOLIDAYS
            or (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3))


def luhn_code(first9):
    """The 10-digit 医療機関コード: nine digits and the check digit that makes the Luhn sum over
    all ten a multiple of 10."""
    total = 0
    for i, ch in enumerate(reversed(first9)):
        d = int(ch)
        if i % 2 == 0:  # the check digit will be position 1 from the right: these are doubled
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return first9 + str((10 - total % 10) % 10)


def tracking_valid(s):
    return bool(re.fullmatch(r"\d{12}", s)) and int(s[:11]) % 7 == int(s[11])


_letter_pack_serial = itertools.count(random.SystemRandom().randrange(10 ** 8) * 100)


def letter_pack_number():
    """A fresh Letter Pack number as printed on the envelope (1234-5678-9012): eleven digits and
    their remainder mod 7. nsdb never makes one up: the operator enters it at 発送."""
    first = "%011d" % (10 ** 10 + next(_letter_pack_serial))
    digits = first + str(int(first) % 7)
    return "%s-%s-%s" % (digits[:4], digits[4:8], digits[8:])


def kana_number(n):
    """A katakana rendering of n (for distinct 氏名カナ)."""
    return "".join("アイウエオカキクケコ"[int(c)] for c in str(n))


def table_rows(page):
    """The body rows of the page's tables, each a list of cell texts."""
    out = []
    for body in re.findall(r"(?is)<tbody\b[^>]*>(.*?)</tbody>", page):
        for tr in re.findall(r"(?is)<tr\b[^>]*>(.*?)</tr>", body):
            cells = re.findall(r"(?is)<td\b[^>]*>(.*?)</td>", tr)
            if cells:
                out.append([visible_text(c) for c in cells])
    return out


def run(argv, data=None, check=True):
    p = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (exit %d): %s" % (" ".join(argv), p.returncode,
                                                         p.stderr.decode("utf-8", "replace")))
    return p


def pdf_text(data_or_path):
    if isinstance(data_or_path, bytes):
        return run(["pdftotext", "-enc", "UTF-8", "-", "-"], data=data_or_path).stdout.decode("utf-8")
    return run(["pdftotext", "-enc", "UTF-8", data_or_path, "-"]).stdout.decode("utf-8")


def squeeze(text):
    return re.sub(r"\s+", "", text)


def iso_info(path):
    return run(["isoinfo", "-d", "-i", path]).stdout.decode("utf-8", "replace")


def rock_ridge_files(path):
    """The Rock Ridge file paths of an image (`isoinfo -R -f`), folders included."""
    out = run(["isoinfo", "-R", "-f", "-i", path]).stdout.decode("utf-8")
    return {line.strip() for line in out.splitlines() if line.strip()}


def rock_ridge_read(path, inner):
    return run(["isoinfo", "-R", "-x", inner, "-i", path]).stdout


def joliet_tree(path):
    """{path: (is_dir, size)} from the image's Joliet directory tree, read here (isoinfo prints
    Joliet names only in single-byte charsets). Names are UCS-2 big-endian; a ';1' version suffix
    is kept as found."""
    with open(path, "rb") as f:
        image = f.read()
    sector = 2048
    svd = None
    for i in range(16, 64):
        vd = image[i * sector:(i + 1) * sector]
        if vd[0] == 255:
            break
        if vd[0] == 2 and vd[1:6] == b"CD001" and vd[88:91] in (b"%/@", b"%/C", b"%/E"):
            svd = vd
            break
    if svd is None:
        return None
    out = {}

    def walk(extent, length, prefix):
        data = image[extent * sector:extent * sector + length]
        pos = 0
        while pos < len(data):
            n = data[pos]
            if n == 0:  # records never cross a sector: go on at the next one
                pos = (pos // sector + 1) * sector
                continue
            rec = data[pos:pos + n]
            pos += n
            name_len = rec[32]
            raw = rec[33:33 + name_len]
            if raw in (b"\x00", b"\x01"):
                continue
            name = raw.decode("utf-16-be")
            child_extent = int.from_bytes(rec[2:6], "little")
            child_len = int.from_bytes(rec[10:14], "little")
            is_dir = bool(rec[25] & 2)
            full = prefix + "/" + name
            out[full] = (is_dir, child_len)
            if is_dir:
                walk(child_extent, child_len, full)

    root = svd[156:156 + 34]
    walk(int.from_bytes(root[2:6], "little"), int.from_bytes(root[10:14], "little"), "")
    return out


# --------------------------------------------------------------------------------------------
# helpers shared by the test classes


class MediaHelpers:
    """Municipal staff, registrations through the CSV import, the CLI verbs and the audit log."""

    # The media template: about 200 KB in folders with Japanese names (the real one is ~5 MB,
    # see bench/media.sh; here the images must stay cheap for the ASan build).
    TEMPLATE = {
        "マニュアル/難病・小慢DB 操作マニュアル.pdf": 96 * 1024,
        "動画/操作説明.mp4": 64 * 1024,
        "チェックツール/checktool.exe": 32 * 1024,
        "VPN/vpnclient-setup.msi": 16 * 1024,
        "はじめにお読みください.txt": 0,  # text, written below
    }
    README_TEXT = "難病・小慢DB 医療機関用媒体\r\n同封のパスフレーズは自治体からお届けします。\r\n"

    def _cached(self, key, make):
        cls = type(self)
        if key not in cls.__dict__:
            setattr(cls, key, make())
        return getattr(cls, key)

    # ---- template

    @classmethod
    def write_template(cls, root):
        """Writes TEMPLATE under root (random bytes, the README as text); returns root."""
        for rel, size in cls.TEMPLATE.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(os.urandom(size) if size else cls.README_TEXT.encode("utf-8"))
        return root

    def template_dir(self):
        """The class's template folder for `nsdb media build --template`."""
        return self._cached("_template",
                            lambda: self.write_template(os.path.join(self._tmp.name, "template")))

    # ---- people and registrations

    def muni_add(self, muni):
        made = type(self).__dict__.get("_munis_made")
        if made is None:
            made = set()
            type(self)._munis_made = made
        if muni[0] not in made:
            code, name, postal, address = muni
            r = self.cli("municipality", "add", "--code", code, "--name", name, "--postal", postal,
                         "--address", address)
            self.assertEqual(r.code, 0, r)
            made.add(code)

    def staff(self, muni):
        """A logged-in muni_staff client of muni (one per municipality and class)."""
        def make():
            self.muni_add(muni)
            r = self.cli("user", "add", "--role", "muni_staff", "--name", "媒体 担当",
                         "--municipality", muni[0], "--json")
            self.assertEqual(r.code, 0, r)
            u = r.json()
            self.remember(u["initial_password"])
            c = self.client()
            self.assertRedirect(c.login(u["user_id"], u["initial_password"]), "/account/password")
            self.assertRedirect(c.change_password(u["initial_password"], GOOD_PASSWORD),
                                "/?done=password")
            c.user_id = u["user_id"]
            return c
        return self._cached("_staff_" + muni[0], make)

    def operator(self):
        def make():
            c, user_id, _ = self.logged_in("operator", new_password=GOOD_PASSWORD, name="運用 次郎")
            c.user_id = user_id
            return c
        return self._cached("_operator", make)

    def new_institutions(self, muni, count, doctors=1, manager=False):
        """count new institutions of muni (codes unique in this class), each with `doctors`
        指定医 (and a 責任者 first when manager): [(code, name, [rows])]."""
        cls = type(self)
        serial = cls.__dict__.get("_inst_serial", 0)
        out = []
        for _ in range(count):
            serial += 1
            code = luhn_code("%s%03d" % (muni[0][:6], serial))
            name = "%s試験病院%d" % (muni[1], serial)
            place = (code, name, "100-0001", "%s 試験町%d-1" % (muni[3][:3], serial), "03-1234-5678")
            rows = []
            if manager:
                rows.append(place + ("責任者", "責任 者%d" % serial, "セキニン " + kana_number(serial),
                                     "難病", "", "", "manager%d@example.jp" % serial))
            for k in range(doctors):
                rows.append(place + ("指定医", "指定 医%d" % (serial * 10 + k),
                                     "シテイ " + kana_number(serial * 10 + k), "両方",
                                     "D-%06d" % (serial * 10 + k), "内科", ""))
            out.append((code, name, rows))
        cls._inst_serial = serial
        return out

    def register(self, muni, institutions):
        """Registers the institutions' rows through 一括登録 as muni's staff; returns
        {institution code: [user IDs]} from the result's CSV."""
        c = self.staff(muni)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        for _, _, rows in institutions:
            w.writerows(rows)
        body = ("\ufeff" + CSV_HEADER + "\r\n" + buf.getvalue()).encode("utf-8")
        token = c.page_csrf("/inst-users/new")
        r = c.post_multipart("/inst-users/import", {"csrf": token},
                             {"file": ("指定医一括登録.csv", body, "text/csv")})
        self.assertEqual(r.status, 303, r)
        m = re.fullmatch(r"/inst-users/import/(\d+)", r.location or "")
        self.assertIsNotNone(m, r)
        r = c.get(r.location + "/users.csv")
        self.assertStatus(r, 200)
        rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        head = rows[0]
        ci, ui = head.index("医療機関ID"), head.index("ユーザID")
        users = {}
        for row in rows[1:]:
            users.setdefault(row[ci], []).append(row[ui])
        self.assertEqual(set(users), {code for code, _, _ in institutions})
        return users

    # ---- cycles

    def cycles(self, *args):
        r = self.cli("cycle", "list", "--json", *args)
        self.assertEqual(r.code, 0, r)
        return r.json()

    def today_cycle(self):
        """(this cycle, the next one): the cycle whose registration window holds today (Japan
        time), or the next one when today is between windows."""
        today = today_jst().isoformat()
        cycles = self.cycles("--from", (today_jst() - datetime.timedelta(days=60)).isoformat())
        for i, c in enumerate(cycles):
            if c["registration_to"] >= today:
                return c, cycles[i + 1]
        self.fail("no cycle holds %s" % today)

    # ---- CLI verbs

    def media_build(self, cycle, template=None):
        r = self.cli("media", "build", "--cycle", cycle, "--template", template or self.template_dir(),
                     "--json")
        self.assertEqual(r.code, 0, r)
        return r.json()

    def package_build(self, cycle, ship=True):
        """`nsdb package build`, then (ship) 発送 of each new package with a fresh Letter Pack
        number: each package's "tracking_number" becomes the number as printed (1234-5678-9012),
        which is how the screens show it."""
        r = self.cli("package", "build", "--cycle", cycle, "--json")
        self.assertEqual(r.code, 0, r)
        packages = r.json()
        for p in packages:
            self.assertIsNone(p["tracking_number"], "packing invents no number: %r" % p)
            if ship:
                p["tracking_number"] = self.package_ship(p["package_id"])
        return packages

    def package_ship(self, package_id, number=None):
        """`nsdb package ship`: 発送 with the Letter Pack's number (a fresh one by default)."""
        number = number or letter_pack_number()
        r = self.cli("package", "ship", "--id", str(package_id), "--tracking-number", number,
                     "--json")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json()["tracking_number"], number.replace("-", ""))
        return number

    def media_list(self, cycle=None):
        r = self.cli("media", "list", "--json", *(("--cycle", cycle) if cycle else ()))
        self.assertEqual(r.code, 0, r)
        return {m["media_id"]: m for m in r.json()}

    def ship(self, muni, count, **kw):
        """Registers count new institutions of muni, builds and packs today's cycle; returns
        (package of muni, {media id: media list entry}, {institution code: [user IDs]})."""
        cycle = self.today_cycle()[0]["id"]
        institutions = self.new_institutions(muni, count, **kw)
        users = self.register(muni, institutions)
        built = self.media_build(cycle)
        self.assertEqual({b["institution"] for b in built if b["municipality"] == muni[0]}, set(users))
        packages = [p for p in self.package_build(cycle) if p["municipality"] == muni[0]]
        self.assertEqual(len(packages), 1, packages)
        media = {mid: m for mid, m in self.media_list(cycle).items() if mid in packages[0]["media"]}
        return packages[0], media, users

    # ---- audit

    def audit_rows(self, action=None, **match):
        r = self.cli("audit", "--json", "--limit", "10000")
        self.assertEqual(r.code, 0, r)
        return [a for a in r.json() if (action is None or a["action"] == action)
                and all(a.get(k) == v for k, v in match.items())]

    # ---- screens

    def media_page(self, client):
        r = client.get("/media")
        self.assertStatus(r, 200)
        return r

    def media_rows(self, client):
        """{media id: cells} of /media (cells: 媒体番号, 医療機関, 区分, 状態, 操作)."""
        return {int(cells[0]): cells for cells in table_rows(self.media_page(client).text)
                if cells and cells[0].isdigit()}

    def wait_for_build(self, client, location, seconds=120):
        """The visible text of the board at location once the background build has ended."""
        deadline = time.monotonic() + seconds
        while True:
            r = client.get(location)
            self.assertStatus(r, 200)
            text = visible_text(r.text)
            if "媒体を作成しています" not in text:
                return text
            self.assertIn("進み具合を更新", text)
            if time.monotonic() > deadline:
                self.fail("the media build did not end within %d s: %s" % (seconds, text))
            time.sleep(0.1)

    def board(self, client, cycle):
        """{municipality code: {status: count}} of /operator/media?cycle=."""
        r = client.get("/operator/media?cycle=" + cycle)
        self.assertStatus(r, 200)
        out = {}
        for cells in table_rows(r.text):
            if len(cells) == 8:
                out[cells[0].split()[0]] = dict(zip(STATUSES, map(int, cells[1:])))
        return out


# --------------------------------------------------------------------------------------------
# the cycle calendar


class CycleTests(MediaHelpers):
    """`nsdb cycle list --json` against the seed's dates, holidays and today's registrations."""

    def test_seed_cycles_with_their_dates_and_json_fields(self):
        cycles = self.cycles()
        self.assertIsInstance(cycles, list)
        for c in cycles:
            self.assertEqual(set(c), CYCLE_FIELDS, c)
            for k in CYCLE_FIELDS:
                self.assertRegex(c[k], r"^\d{4}-\d{2}-\d{2}$", c)
        by_from = {c["registration_from"]: c for c in cycles}
        self.assertEqual(cycles[0]["registration_from"], "2023-08-21", "the first cycle")
        for reg, media, delivery in SEED_CYCLES:
            with self.subTest(registration=reg):
                c = by_from.get(reg[0])
                self.assertIsNotNone(c, "no cycle registering from %s" % reg[0])
                self.assertEqual(c["id"], reg[0])
                self.assertEqual((c["registration_from"], c["registration_to"]), reg)
                self.assertEqual((c["media_from"], c["media_to"]), media)
                self.assertEqual((c["delivery_from"], c["delivery_to"]), delivery)
        # 2023-10-09 (Monday) is スポーツの日: no window starts or ends on it
        self.assertNotIn("2023-10-09", {v for c in cycles for v in c.values()})
        self.assertIn("2023-10-10", by_from)
        # the calendar reaches at least 2035
        self.assertGreaterEqual(cycles[-1]["registration_to"], "2035-12-01")

    def test_every_working_day_falls_into_exactly_one_cycle(self):
        cycles = self.cycles()
        ids = [c["id"] for c in cycles]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(ids), len(set(ids)))
        for prev, cur in zip(cycles, cycles[1:]):
            with self.subTest(cycle=cur["id"]):
                self.assertEqual(cur["id"], cur["registration_from"])
                for c in (prev, cur):
                    self.assertLessEqual(c["registration_from"], c["registration_to"])
                    self.assertLess(c["registration_to"], c["media_from"])
                    self.assertLessEqual(c["media_from"], c["media_to"])
                    self.assertLessEqual(c["delivery_from"], c["delivery_to"])
                    self.assertLessEqual(c["media_from"], c["delivery_from"])
                self.assertLess(prev["registration_to"], cur["registration_from"], "overlap")
                gap = (day(cur["registration_from"]) - day(prev["registration_to"])).days - 1
                self.assertLess(gap, 12, "a gap of %d days before %s" % (gap, cur["id"]))
                if cur["registration_from"] >= "2023-09-25":
                    # fixed cycles: the next registration window opens with this media window
                    self.assertEqual(prev["media_from"], cur["registration_from"], prev)
                if cur["registration_from"] < "2026-01-01":
                    for k in range(1, gap + 1):
                        d = day(prev["registration_to"]) + datetime.timedelta(days=k)
                        self.assertTrue(is_day_off(d), "%s is a working day in no window" % d)
                    for key in ("registration_from", "registration_to", "media_from", "media_to"):
                        self.assertFalse(is_day_off(day(cur[key])), "%s %s is a day off" % (key, cur[key]))

    def test_from_filter_and_todays_registration_cycle(self):
        everything = self.cycles()
        since = self.cycles("--from", "2023-10-10")
        self.assertTrue(since, "nothing from 2023-10-10")
        self.assertTrue(all(c["delivery_to"] >= "2023-10-10" for c in since))
        self.assertEqual(since, [c for c in everything if c["delivery_to"] >= "2023-10-10"])
        # a registration made now is recorded with today's cycle (the API shows it)
        this, nxt = self.today_cycle()
        self.assertGreater(nxt["id"], this["id"])
        users = self.register(CHIYODA, self.new_institutions(CHIYODA, 1))
        r = self.cli("token", "add", "--name", "media-e2e", "--json")
        self.assertEqual(r.code, 0, r)
        token = r.json()["token"]
        r = self.client().get("/api/v1/registrations", headers={"Authorization": "Bearer " + token})
        self.assertStatus(r, 200)
        regs = [x for x in json.loads(r.text)["registrations"]
                if x["user_id"] in sum(users.values(), [])]
        self.assertEqual(len(regs), 1, regs)
        self.assertEqual(regs[0]["cycle"], this["id"])
        today = today_jst().isoformat()
        self.assertEqual(regs[0]["registered_on"], today)
        self.assertLessEqual(today, this["registration_to"])
        if today < this["registration_from"]:  # between two windows: the next one
            self.assertFalse([c for c in everything
                              if c["registration_from"] <= today <= c["registration_to"]])


# --------------------------------------------------------------------------------------------
# media build: images, certificates, user-ID lists


class MediaBuildTests(MediaHelpers):
    """`nsdb media build`: one image per institution with the template, the PKCS#12 (verified
    against the CA once the passphrase is printed after receipt), the VPN profile and the lists."""

    def built(self):
        """Chiyoda: institution 1 with a 責任者 and two 指定医, institution 2 with one 指定医;
        Sapporo: one institution. Built once: (cycle, build output, media list right after it,
        {institution code: user IDs})."""
        def make():
            cycle = self.today_cycle()[0]["id"]
            a = self.new_institutions(CHIYODA, 1, doctors=2, manager=True) + \
                self.new_institutions(CHIYODA, 1)
            b = self.new_institutions(SAPPORO, 1)
            users = dict(self.register(CHIYODA, a))
            users.update(self.register(SAPPORO, b))
            out = self.media_build(cycle)
            return cycle, out, self.media_list(cycle), users
        return self._cached("_built", make)

    def received(self):
        """Packs the cycle and receives the packages; ({media id: passphrase}, package output)."""
        def make():
            cycle, out, _, _ = self.built()
            packages = self.package_build(cycle)
            self.assertEqual({p["municipality"] for p in packages}, {CHIYODA[0], SAPPORO[0]})
            passphrases = {}
            for p in packages:
                c = self.staff(CHIYODA if p["municipality"] == CHIYODA[0] else SAPPORO)
                pid = p["package_id"]
                self.assertStatus(c.get("/media/packages/%d/passphrases.pdf" % pid), 409)
                self.assertRedirect(c.post("/media/packages/%d/receive" % pid,
                                           {"csrf": c.page_csrf("/media")}), "/media?done=received")
                r = c.get("/media/packages/%d/passphrases.pdf" % pid)
                self.assertStatus(r, 200)
                self.assertEqual(r.content_type, "application/pdf", r)
                text = pdf_text(r.body)
                # one page per media: 医療機関ID, 媒体番号 and the passphrase
                pages = text.split("\f")
                for mid in p["media"]:
                    media = [pg for pg in pages if re.search(r"媒体番号\s+%d\s" % mid, pg)]
                    self.assertEqual(len(media), 1, "media %d on the passphrase sheet:\n%s" % (mid, text))
                    found = PASSPHRASE_IN_TEXT.findall(media[0])
                    self.assertEqual(len(found), 1, media[0])
                    passphrases[mid] = found[0]
            return passphrases, packages
        return self._cached("_received", make)

    def test_build_prints_one_media_per_institution_with_its_image_and_sha256(self):
        cycle, out, listed, users = self.built()
        self.assertEqual(len(out), 3, out)
        self.assertEqual({b["institution"] for b in out}, set(users))
        for b in out:
            with self.subTest(institution=b["institution"]):
                self.assertEqual(set(b), {"media_id", "municipality", "institution", "iso", "sha256",
                                          "reissue"})
                self.assertIs(b["reissue"], False)
                self.assertEqual(b["municipality"],
                                 CHIYODA[0] if b["institution"].startswith(CHIYODA[0]) else SAPPORO[0])
                self.assertEqual(os.path.dirname(b["iso"]),
                                 os.path.join(self.data_dir, "media", cycle))
                self.assertTrue(os.path.isfile(b["iso"]), b["iso"])
                self.assertRegex(b["sha256"], r"^[0-9a-f]{64}$")
                sha = run(["sha256sum", b["iso"]]).stdout.decode().split()[0]
                self.assertEqual(sha, b["sha256"])
                m = listed[b["media_id"]]
                self.assertEqual(set(m), MEDIA_LIST_FIELDS)
                self.assertEqual((m["cycle"], m["municipality"], m["institution"], m["iso"], m["sha256"]),
                                 (cycle, b["municipality"], b["institution"], b["iso"], b["sha256"]))
                self.assertEqual((m["status"], m["kind"], m["package_id"]), ("created", "initial", None))
                self.assertEqual(m["size_bytes"], os.path.getsize(b["iso"]))
        self.assertEqual(len({b["sha256"] for b in out}), 3)
        # the CA, made on first use: a private key only the owner reads
        ca = os.path.join(self.data_dir, "ca")
        self.assertEqual(os.stat(os.path.join(ca, "ca.key")).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(ca).st_mode & 0o077, 0)
        self.assertTrue(os.path.isfile(os.path.join(ca, "ca.crt")))
        # audited, one media_create per media
        created = {a["target"] for a in self.audit_rows("media_create", result="ok")}
        self.assertLessEqual({"media:%d" % b["media_id"] for b in out}, created)

    def test_images_have_the_volume_id_joliet_rock_ridge_and_the_contents(self):
        cycle, out, _, users = self.built()
        template = self.template_dir()
        expected_files = set(self.TEMPLATE) | {"証明書/client.p12", "証明書/nsdb-vpn.ovpn",
                                               "ユーザID一覧/ユーザID一覧.csv",
                                               "ユーザID一覧/ユーザID一覧.pdf"}
        for b in out:
            with self.subTest(institution=b["institution"]):
                img = b["iso"]
                info = iso_info(img)
                self.assertRegex(info, r"(?m)^Volume id: NSDB_%s\s*$" % b["institution"])
                self.assertIn("Joliet with UCS level 3 found", info)
                self.assertIn("Rock Ridge signatures version 1 found", info)
                # Rock Ridge names (isoinfo) and Joliet names (read here) are the same tree
                rr = {p.lstrip("/") for p in rock_ridge_files(img)}
                self.assertLessEqual(expected_files, rr)
                joliet = joliet_tree(img)
                self.assertIsNotNone(joliet, "no Joliet volume descriptor")
                joliet_files = {re.sub(r";1$", "", p).lstrip("/") for p, (d, _) in joliet.items() if not d}
                self.assertEqual(joliet_files, expected_files)
                self.assertEqual({p for p in rr if p not in expected_files},
                                 {os.path.dirname(p) for p in expected_files} - {""})
                # the template's files, byte for byte
                for rel in self.TEMPLATE:
                    with open(os.path.join(template, rel), "rb") as f:
                        self.assertEqual(rock_ridge_read(img, "/" + rel), f.read(), rel)
                # the VPN profile names the PKCS#12 next to it
                ovpn = rock_ridge_read(img, "/証明書/nsdb-vpn.ovpn").decode("utf-8")
                self.assertRegex(ovpn, r"(?m)^pkcs12 client\.p12$")
                self.assertRegex(ovpn, r"(?m)^client$")
                self.assertIn(b["institution"], ovpn)
                p12 = rock_ridge_read(img, "/証明書/client.p12")
                self.assertGreater(len(p12), 500)
                self.assertEqual(p12[0], 0x30, "the PKCS#12 is not DER")
                # the user-ID list: this institution's users only
                listing = rock_ridge_read(img, "/ユーザID一覧/ユーザID一覧.csv").decode("utf-8-sig")
                rows = list(csv.reader(io.StringIO(listing)))
                self.assertEqual(rows[0], LIST_HEADER)
                self.assertEqual(sorted(r[5] for r in rows[1:]), sorted(users[b["institution"]]))
                self.assertTrue(all(r[1] == b["municipality"] and r[3] == b["institution"]
                                    for r in rows[1:]), rows)
                self.assertEqual([r[0] for r in rows[1:]], [str(i) for i in range(1, len(rows))])
                text = squeeze(pdf_text(rock_ridge_read(img, "/ユーザID一覧/ユーザID一覧.pdf")))
                self.assertIn("医療機関毎の指定医のユーザID一覧", text)
                for user_id in users[b["institution"]]:
                    self.assertIn(user_id, text)
                for other, ids in users.items():
                    if other != b["institution"]:
                        self.assertFalse(any(i in text for i in ids), "another institution's users")

    def test_building_again_makes_nothing_new(self):
        cycle, out, _, _ = self.built()
        before = self.media_list()
        creates = len(self.audit_rows("media_create"))
        shas = {b["iso"]: run(["sha256sum", b["iso"]]).stdout.split()[0] for b in out}
        self.assertEqual(self.media_build(cycle), [])
        self.assertEqual(self.media_list(), before)
        self.assertEqual(len(self.audit_rows("media_create")), creates)
        for iso, sha in shas.items():
            self.assertEqual(run(["sha256sum", iso]).stdout.split()[0], sha, "image rewritten")
        # an unknown cycle or a missing template is refused
        r = self.cli("media", "build", "--cycle", "1999-01-04", "--template", self.template_dir(), "--json")
        self.assertNotEqual(r.code, 0, r)
        r = self.cli("media", "build", "--cycle", cycle, "--template",
                     os.path.join(self._tmp.name, "no-such-template"), "--json")
        self.assertNotEqual(r.code, 0, r)

    def test_certificate_opens_with_the_printed_passphrase_and_verifies_against_the_ca(self):
        cycle, out, _, _ = self.built()
        passphrases, packages = self.received()
        self.assertEqual(set(passphrases), {b["media_id"] for b in out})
        self.assertEqual(len(set(passphrases.values())), len(passphrases), "passphrases repeat")
        ca_crt = os.path.join(self.data_dir, "ca", "ca.crt")
        work = os.path.join(self._tmp.name, "certs")
        os.makedirs(work, exist_ok=True)
        for b in out:
            with self.subTest(institution=b["institution"]):
                passphrase = passphrases[b["media_id"]]
                self.assertRegex(passphrase, PASSPHRASE)
                p12_path = os.path.join(work, "%d.p12" % b["media_id"])
                with open(p12_path, "wb") as f:
                    f.write(rock_ridge_read(b["iso"], "/証明書/client.p12"))
                cert = os.path.join(work, "%d.pem" % b["media_id"])
                run(["openssl", "pkcs12", "-in", p12_path, "-passin", "pass:" + passphrase,
                     "-nokeys", "-clcerts", "-out", cert])
                p = run(["openssl", "verify", "-CAfile", ca_crt, cert])
                self.assertEqual(p.stdout.decode().strip(), "%s: OK" % cert)
                subject = run(["openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt",
                               "utf8,sep_multiline"]).stdout.decode("utf-8")
                self.assertRegex(subject, r"CN=%s\b" % b["institution"])
                eku = run(["openssl", "x509", "-in", cert, "-noout", "-ext", "extendedKeyUsage"]).stdout
                self.assertIn(b"TLS Web Client Authentication", eku)
                # the key is in there too, and a wrong passphrase opens nothing
                key = run(["openssl", "pkcs12", "-in", p12_path, "-passin", "pass:" + passphrase,
                           "-nocerts", "-nodes"]).stdout
                self.assertIn(b"PRIVATE KEY", key)
                wrong = passphrase[:-1] + ("2" if passphrase[-1] != "2" else "3")
                self.assertNotEqual(run(["openssl", "pkcs12", "-in", p12_path, "-passin", "pass:" + wrong,
                                         "-nokeys", "-clcerts"], check=False).returncode, 0)
                # the passphrase travels neither on the media nor in the package
                with open(b["iso"], "rb") as f:
                    self.assertNotIn(passphrase.encode(), f.read())
        for p in packages:
            texts = pdf_text(p["label_pdf"]) + pdf_text(p["list_pdf"])
            with open(p["list_pdf"][:-len("_list.pdf")] + "_list.csv", encoding="utf-8-sig") as f:
                texts += f.read()
            for passphrase in passphrases.values():
                self.assertNotIn(passphrase, texts)
        # printing the passphrases is audited
        printed = {a["target"] for a in self.audit_rows("passphrase_print", result="ok")}
        self.assertLessEqual({"package:%d" % p["package_id"] for p in packages}, printed)


# --------------------------------------------------------------------------------------------
# packing: 1, 15, 16 and 31 media of a municipality


class PackingTests(MediaHelpers):
    """`nsdb package build`: at most 15 media per Letter Pack Plus per municipality; tracking
    numbers; the label (発送先 from the municipality's 郵便番号 and 所属先住所) and the printed list."""

    # municipality -> media to pack -> expected package sizes. One data folder (one server) with a
    # municipality per count: packages never mix municipalities, and all registrations are today's.
    CASES = [(CHIYODA, 1, [1]), (CHUO, 15, [15]), (MINATO, 16, [15, 1]), (SHINJUKU, 31, [15, 15, 1])]

    @classmethod
    def cases(cls):
        # The 31-media case runs against the release build only: the ASan build makes every image
        # and PDF several times slower, and 1, 15 and 16 already cover the split there.
        if binary_label(cls.BIN) == "Asan":
            return cls.CASES[:3]
        return cls.CASES

    def packed(self):
        def make():
            cycle = self.today_cycle()[0]["id"]
            users = {}
            for muni, n, _ in self.cases():
                users.update(self.register(muni, self.new_institutions(muni, n)))
            built = self.media_build(cycle)
            self.assertEqual(len(built), sum(n for _, n, _ in self.cases()))
            packages = self.package_build(cycle)
            return cycle, built, packages, self.media_list(cycle), users
        return self._cached("_packed", make)

    def test_packages_hold_at_most_15_media_of_one_municipality(self):
        cycle, built, packages, listed, _ = self.packed()
        for p in packages:
            self.assertEqual(set(p), {"package_id", "municipality", "media", "tracking_number",
                                      "label_pdf", "list_pdf"})
        municipality_of = {b["media_id"]: b["municipality"] for b in built}
        for muni, n, sizes in self.cases():
            with self.subTest(municipality=muni[1], media=n):
                mine = [p for p in packages if p["municipality"] == muni[0]]
                self.assertEqual(sorted((len(p["media"]) for p in mine), reverse=True), sizes)
                ids = [m for p in mine for m in p["media"]]
                self.assertEqual(len(ids), len(set(ids)))
                self.assertEqual(set(ids), {mid for mid, code in municipality_of.items() if code == muni[0]})
        # every media is in exactly one package, shipped, with that package's id
        in_package = {m: p["package_id"] for p in packages for m in p["media"]}
        self.assertEqual(set(in_package), set(listed))
        for mid, m in listed.items():
            self.assertEqual((m["status"], m["package_id"]), ("shipped", in_package[mid]), m)
        # audited: packed and shipped per media, one package_create per package
        for action in ("media_packed", "media_shipped"):
            targets = [a["target"] for a in self.audit_rows(action, result="ok")]
            self.assertEqual(sorted(targets), sorted("media:%d" % m for m in listed), action)
        self.assertEqual(sorted(a["target"] for a in self.audit_rows("package_create")),
                         sorted("package:%d" % p["package_id"] for p in packages))
        # packing again makes nothing new
        self.assertEqual(self.package_build(cycle), [])
        self.assertEqual(self.media_list(cycle), listed)

    def test_tracking_numbers_are_the_ones_entered_at_shipping(self):
        _, _, packages, _, _ = self.packed()
        for p in packages:
            digits = p["tracking_number"].replace("-", "")
            self.assertTrue(tracking_valid(digits), p)
            shipped = self.audit_rows("package_shipped", target="package:%d" % p["package_id"])
            self.assertEqual(len(shipped), 1, shipped)
            self.assertIn("追跡番号 %s" % digits, shipped[0]["detail"])
        # package_create no longer names a number: there is none when packing
        for a in self.audit_rows("package_create"):
            self.assertNotIn("追跡番号", a["detail"], a)

    def test_label_and_list_pdfs(self):
        cycle, built, packages, _, users = self.packed()
        institution_of = {b["media_id"]: b["institution"] for b in built}
        muni_of = {m[0]: m for m, _, _ in self.cases()}
        for p in packages:
            muni = muni_of[p["municipality"]]
            with self.subTest(package=p["package_id"], municipality=muni[1]):
                folder = os.path.join(self.data_dir, "media", cycle, "packages")
                for key in ("label_pdf", "list_pdf"):
                    self.assertEqual(os.path.dirname(p[key]), folder)
                    with open(p[key], "rb") as f:
                        self.assertEqual(f.read(5), b"%PDF-", p[key])
                label = pdf_text(p["label_pdf"])
                flat = squeeze(label)
                for want in ("発送先", "発送元", "〒" + muni[2], squeeze(muni[3]), muni[1],
                             "DVD%d枚" % len(p["media"])):
                    self.assertIn(want, flat, "label of package %d:\n%s" % (p["package_id"], label))
                # made when packing, before any number: Japan Post prints it on the envelope
                self.assertNotIn(p["tracking_number"].replace("-", ""), flat)
                text = pdf_text(p["list_pdf"])
                flat = squeeze(text)
                self.assertIn("医療機関毎の指定医のユーザID一覧", flat)
                for column in LIST_HEADER[1:]:
                    self.assertIn(column, flat)
                mine = {institution_of[m] for m in p["media"]}
                for code in mine:
                    self.assertIn(code, flat)
                    for user_id in users[code]:
                        self.assertIn(user_id, flat)
                others = [u for code, ids in users.items() if code not in mine for u in ids]
                self.assertFalse([u for u in others if u in flat], "users of other packages listed")
                # and the same list as CSV, numbered from 1
                with open(p["list_pdf"][:-len("_list.pdf")] + "_list.csv", encoding="utf-8-sig") as f:
                    rows = list(csv.reader(f))
                self.assertEqual(rows[0], LIST_HEADER)
                self.assertEqual([r[0] for r in rows[1:]], [str(i) for i in range(1, len(rows))])
                self.assertEqual({r[3] for r in rows[1:]}, mine)
                self.assertTrue(all(r[1] == muni[0] and r[2] == muni[1] for r in rows[1:]))

    def test_status_board_counts_per_municipality(self):
        cycle, _, _, _, _ = self.packed()
        board = self.board(self.operator(), cycle)
        for muni, n, _ in self.cases():
            self.assertEqual(board.get(muni[0]), dict(zip(STATUSES, (0, 0, n, 0, 0, 0, 0))), board)


# --------------------------------------------------------------------------------------------
# the municipal screens: 媒体受領, 医療機関へ送付, 破損連絡 (and the reissue), scope


class ReceiptTests(MediaHelpers):
    """/media for municipal staff: receipt, passphrases, forwarding, damage → reissue in the next
    cycle; another municipality's packages and media answer 404 and are audited."""

    def test_receive_a_package_then_print_its_passphrases(self):
        c = self.staff(CHIYODA)
        package, media, users = self.ship(CHIYODA, 2)
        pid = package["package_id"]
        page = self.media_page(c)
        self.assertJapanesePage(page)
        text = visible_text(page.text)
        self.assertIn(package["tracking_number"], text)
        self.assertRegex(page.text, r'action="/media/packages/%d/receive"' % pid)
        for mid in media:
            self.assertEqual(self.media_rows(c)[mid][3], "発送済")
        # nothing to print before the receipt
        r = c.get("/media/packages/%d/passphrases.pdf" % pid)
        self.assertStatus(r, 409)
        self.assertNotIn("/media/packages/%d/passphrases.pdf" % pid, page.text)
        # receipt: package and its media
        r = c.post("/media/packages/%d/receive" % pid, {"csrf": c.page_csrf("/media")})
        self.assertRedirect(r, "/media?done=received")
        page = c.get(r.location)
        self.assertIn("受領を記録しました", visible_text(page.text))
        self.assertIn('href="/media/packages/%d/passphrases.pdf"' % pid, page.text)
        self.assertNotRegex(page.text, r'action="/media/packages/%d/receive"' % pid)
        rows = self.media_rows(c)
        for mid in media:
            self.assertEqual(rows[mid][3], "受領済")
        self.assertEqual({m["status"] for m in self.media_list().values() if m["media_id"] in media},
                         {"received"})
        self.assertEqual(len(self.audit_rows("package_received", target="package:%d" % pid,
                                             actor=c.user_id)), 1)
        self.assertEqual(sorted(a["target"] for a in self.audit_rows("media_received", actor=c.user_id)
                                if int(a["target"].split(":")[1]) in media),
                         sorted("media:%d" % m for m in media))
        # a second receipt is refused and changes nothing
        self.assertStatus(c.post("/media/packages/%d/receive" % pid, {"csrf": c.page_csrf("/media")}), 409)
        self.assertEqual(len(self.audit_rows("package_received", target="package:%d" % pid)), 1)
        # the passphrases: one page per media, 20 characters each
        r = c.get("/media/packages/%d/passphrases.pdf" % pid)
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "application/pdf")
        self.assertIn("attachment", r.header("Content-Disposition") or "")
        text = pdf_text(r.body)
        self.assertEqual(len(PASSPHRASE_IN_TEXT.findall(text)), len(media), text)
        for m in media.values():
            self.assertIn(m["institution"], text)
        self.assertEqual(len(self.audit_rows("passphrase_print", target="package:%d" % pid)), 1)

    def test_forward_needs_a_receipt_and_a_date_not_in_the_future(self):
        c = self.staff(CHIYODA)
        package, media, _ = self.ship(CHIYODA, 2)
        first, second = sorted(media)
        today = today_jst()

        def forward(mid, date, csrf=True):
            form = {"date": date}
            if csrf:
                form["csrf"] = c.page_csrf("/media")
            return c.post("/media/%d/forward" % mid, form)

        self.assertStatus(forward(first, today.isoformat()), 409)  # not received yet
        self.assertRedirect(c.post("/media/packages/%d/receive" % package["package_id"],
                                   {"csrf": c.page_csrf("/media")}), "/media?done=received")
        tomorrow = (today + datetime.timedelta(days=1)).isoformat()
        for bad in (tomorrow, "2030-01-01", "", "2026/11/25", "2025-02-30", "2025-13-01", "1999-12-31",
                    "2025-01-01x"):
            with self.subTest(date=bad):
                self.assertStatus(forward(first, bad), 400)
        self.assertStatus(forward(first, today.isoformat(), csrf=False), 403)
        self.assertEqual(self.media_list()[first]["status"], "received")
        yesterday = (today - datetime.timedelta(days=1)).isoformat()
        self.assertRedirect(forward(first, yesterday), "/media?done=forwarded")
        self.assertRedirect(forward(second, today.isoformat()), "/media?done=forwarded")
        listed = self.media_list()
        self.assertEqual((listed[first]["status"], listed[second]["status"]), ("forwarded", "forwarded"))
        rows = self.media_rows(c)
        self.assertIn("医療機関へ送付済", rows[first][3])
        self.assertIn(yesterday, rows[first][3])
        self.assertIn(today.isoformat(), rows[second][3])
        self.assertStatus(forward(first, today.isoformat()), 409)  # already forwarded
        audited = self.audit_rows("media_forwarded", target="media:%d" % first, actor=c.user_id)
        self.assertEqual(len(audited), 1, audited)
        self.assertIn(yesterday, audited[0]["detail"])

    def test_damage_then_reissue_in_the_next_cycle(self):
        c = self.staff(OSAKA)
        package, media, users = self.ship(OSAKA, 2)
        damaged, kept = sorted(media)
        this, nxt = self.today_cycle()

        def damage(mid, note, csrf=True):
            form = {"note": note}
            if csrf:
                form["csrf"] = c.page_csrf("/media")
            return c.post("/media/%d/damage" % mid, form)

        for bad in ("", "   ", "あ" * 501):
            with self.subTest(note=bad[:5]):
                self.assertStatus(damage(damaged, bad), 400)
        self.assertStatus(damage(damaged, "ケースが割れていた", csrf=False), 403)
        self.assertRedirect(c.post("/media/packages/%d/receive" % package["package_id"],
                                   {"csrf": c.page_csrf("/media")}), "/media?done=received")
        note = "ディスクにひびが入っていた"
        self.assertRedirect(damage(damaged, note), "/media?done=damaged")
        self.assertIn("破損を連絡しました", visible_text(c.get("/media?done=damaged").text))
        row = self.media_rows(c)[damaged]
        self.assertIn("破損（再発行待ち）", row[3])
        self.assertIn(note, row[3])
        self.assertEqual(self.media_list()[damaged]["status"], "damaged")
        self.assertStatus(damage(damaged, "もう一度"), 409)
        audited = self.audit_rows("media_damaged", target="media:%d" % damaged, actor=c.user_id)
        self.assertEqual(len(audited), 1, audited)
        self.assertIn(nxt["id"], audited[0]["detail"])
        # today's cycle holds no reissue; the next cycle's build makes it
        self.assertEqual([b for b in self.media_build(this["id"]) if b["reissue"]], [])
        again = self.media_build(nxt["id"])
        self.assertEqual(len(again), 1, again)
        reissue = again[0]
        self.assertIs(reissue["reissue"], True)
        self.assertEqual((reissue["municipality"], reissue["institution"]),
                         (OSAKA[0], media[damaged]["institution"]))
        self.assertNotEqual(reissue["iso"], media[damaged]["iso"])
        self.assertTrue(os.path.isfile(media[damaged]["iso"]), "the first image was removed")
        self.assertEqual(os.path.dirname(reissue["iso"]), os.path.join(self.data_dir, "media", nxt["id"]))
        self.assertEqual(run(["sha256sum", reissue["iso"]]).stdout.decode().split()[0], reissue["sha256"])
        self.assertRegex(iso_info(reissue["iso"]), r"(?m)^Volume id: NSDB_%s" % reissue["institution"])
        listed = self.media_list()
        self.assertEqual(listed[damaged]["status"], "reissued")
        self.assertEqual((listed[reissue["media_id"]]["kind"], listed[reissue["media_id"]]["status"],
                          listed[reissue["media_id"]]["cycle"]), ("reissue", "created", nxt["id"]))
        self.assertEqual(listed[kept]["status"], "received")
        self.assertIn("破損（再発行済）", self.media_rows(c)[damaged][3])
        self.assertEqual(len(self.audit_rows("media_reissued", target="media:%d" % damaged)), 1)
        self.assertEqual(len(self.audit_rows("media_create", target="media:%d" % reissue["media_id"])), 1)
        self.assertEqual(self.media_build(nxt["id"]), [])  # and only once
        # the reissue is packed in the next cycle and reaches the municipality like any media
        packed = self.package_build(nxt["id"])
        self.assertEqual([(p["municipality"], p["media"]) for p in packed], [(OSAKA[0], [reissue["media_id"]])])
        rows = self.media_rows(c)
        self.assertEqual(rows[reissue["media_id"]][2], "再発行")
        self.assertEqual(rows[reissue["media_id"]][3], "発送済")
        # the reissue carries a new certificate: its passphrase is a new one
        pid = packed[0]["package_id"]
        self.assertRedirect(c.post("/media/packages/%d/receive" % pid, {"csrf": c.page_csrf("/media")}),
                            "/media?done=received")
        old = PASSPHRASE_IN_TEXT.findall(pdf_text(c.get("/media/packages/%d/passphrases.pdf"
                                                         % package["package_id"]).body))
        new = PASSPHRASE_IN_TEXT.findall(pdf_text(c.get("/media/packages/%d/passphrases.pdf" % pid).body))
        self.assertEqual(len(new), 1)
        self.assertNotIn(new[0], old)

    def test_another_municipality_gets_404_and_every_attempt_is_audited(self):
        a = self.staff(CHIYODA)
        b = self.staff(SAPPORO)
        package, media, _ = self.ship(SAPPORO, 1)
        pid, mid = package["package_id"], next(iter(media))
        token = a.page_csrf("/media")
        self.assertNotIn(package["tracking_number"], visible_text(self.media_page(a).text))
        attempts = [
            ("POST", "/media/packages/%d/receive" % pid, {"csrf": token}, NOT_FOUND_PACKAGE),
            ("GET", "/media/packages/%d/passphrases.pdf" % pid, None, NOT_FOUND_PACKAGE),
            ("POST", "/media/%d/forward" % mid, {"csrf": token, "date": today_jst().isoformat()},
             NOT_FOUND_MEDIA),
            ("POST", "/media/%d/damage" % mid, {"csrf": token, "note": "割れていた"}, NOT_FOUND_MEDIA),
        ]
        for method, path, form, message in attempts:
            with self.subTest(attempt=method + " " + path):
                before = len(self.audit_rows("scope_denied", target=path))
                r = a.request(method, path, data=form)
                self.assertStatus(r, 404)
                self.assertIn(message, visible_text(r.text))
                self.assertNotIn("札幌", visible_text(r.text))
                denied = self.audit_rows("scope_denied", target=path)
                self.assertEqual(len(denied), before + 1)
                self.assertEqual((denied[0]["actor"], denied[0]["result"]), (a.user_id, "denied"))
                # an unknown id answers the same
                unknown = re.sub(r"/\d+/", "/99999/", path)
                r2 = a.request(method, unknown, data=form)
                self.assertStatus(r2, 404)
                self.assertEqual(visible_text(r2.text), visible_text(r.text))
        # B's package and media are untouched; B can still do all of it
        self.assertEqual(self.media_list()[mid]["status"], "shipped")
        self.assertRedirect(b.post("/media/packages/%d/receive" % pid, {"csrf": b.page_csrf("/media")}),
                            "/media?done=received")
        self.assertStatus(b.get("/media/packages/%d/passphrases.pdf" % pid), 200)
        for path in ("/media/abc/forward", "/media/0/damage", "/media/packages/-1/receive"):
            self.assertStatus(a.post(path, {"csrf": token, "date": "2025-01-01", "note": "x"}), 404)

    def test_roles_and_csrf(self):
        staff = self.staff(CHIYODA)
        op = self.operator()
        mhlw, _, _ = self.logged_in("mhlw", new_password=GOOD_PASSWORD, name="厚労 媒体")
        for who, c in (("operator", op), ("mhlw", mhlw)):
            with self.subTest(role=who):
                self.assertStatus(c.get("/media"), 403)
                token = c.page_csrf("/account/password")
                self.assertStatus(c.post("/media/packages/1/receive", {"csrf": token}), 403)
        for path in ("/cycles", "/operator/media"):
            with self.subTest(staff=path):
                self.assertStatus(staff.get(path), 403)
        token = staff.page_csrf("/media")
        for path in ("/operator/media/build", "/operator/media/pack", "/cycles/2030-01-07"):
            self.assertStatus(staff.post(path, {"csrf": token, "cycle": "2030-01-07"}), 403)
        self.assertStatus(mhlw.get("/cycles"), 200)  # read only (test_cycle_screens.py)
        anon = self.client()
        for path in ("/media", "/cycles", "/operator/media"):
            self.assertRedirect(anon.get(path), "/login")
        self.assertStatus(staff.post("/media/packages/1/receive", {}), 403)
        self.assertStatus(staff.post("/media/packages/1/receive", {"csrf": "0" * 64}), 403)
        # without --media-template the build button answers 409 (nothing built)
        cycle = self.today_cycle()[0]["id"]
        r = op.post("/operator/media/build", {"csrf": op.page_csrf("/operator/media?cycle=" + cycle),
                                              "cycle": cycle, "early": "1"})
        self.assertStatus(r, 409)
        self.assertIn("--media-template", visible_text(r.text))


# --------------------------------------------------------------------------------------------
# the operator's screens


class OperatorTests(MediaHelpers):
    """/cycles (view and adjust), /operator/media (status board; build and pack from the screen)."""

    @classmethod
    def setUpClass(cls):
        # `nsdb serve --media-template DIR` for the build button: the template is written to a
        # folder of its own before the server starts.
        cls._template_tmp = tempfile.TemporaryDirectory(prefix="nsdb-e2e-template-")
        root = cls.write_template(os.path.join(cls._template_tmp.name, "template"))
        cls._template = root
        cls.SERVE_ARGS = ("--media-template", root)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._template_tmp.cleanup()

    def test_a_build_is_refused_while_another_holds_the_data_folder(self):
        # (runs first: it builds nothing) another build — here a process holding the lock that
        # the screen's and the CLI's builds take — makes both refuse, without touching anything
        op = self.operator()
        cycle = self.today_cycle()[0]["id"]
        media_dir = os.path.join(self.data_dir, "media")
        os.makedirs(media_dir, exist_ok=True)
        with open(os.path.join(media_dir, ".build.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                token = op.page_csrf("/operator/media?cycle=" + cycle)
                r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
                self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
                self.assertIn("別の媒体作成（画面または nsdb media build）が実行中です",
                              self.wait_for_build(op, r.location))
                r = self.cli("media", "build", "--cycle", cycle, "--template", self._template)
                self.assertEqual(r.code, 1, r)
                self.assertIn("別の媒体作成", r.stderr)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self.assertEqual(self.media_list(cycle), {})

    def test_stopping_the_server_stops_a_build_which_goes_on_later(self):
        # (named to run after test_board_build_and_pack_from_the_screen, which counts the board)
        op = self.operator()
        cycle = self.today_cycle()[0]["id"]
        self.register(OSAKA, self.new_institutions(OSAKA, 40))
        token = op.page_csrf("/operator/media?cycle=" + cycle)
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        # SIGTERM a moment later (40 media take seconds): the server stops the build after the
        # media it is making and exits 0
        time.sleep(0.2)
        self.assertEqual(self.server.stop(), 0, self.server.stderr()[-3000:])
        log = self.server.stderr()
        self.assertIsNone(sanitizer_report(log), log[-3000:])
        ended = [json.loads(line) for line in log.splitlines() if '"media_build_ended"' in line]
        self.assertEqual([e["result"] for e in ended][-1:], ["busy"], ended)
        self.server.start()
        op.base_url = self.server.base_url  # a new port; the session cookie still holds
        made = self.board(op, cycle).get(OSAKA[0], {}).get("created", 0)
        self.assertLess(made, 40)
        # building again makes the rest
        token = op.page_csrf("/operator/media?cycle=" + cycle)
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        self.assertIn("媒体を作成しました：%d 件" % (40 - made), self.wait_for_build(op, r.location))
        self.assertEqual(self.board(op, cycle)[OSAKA[0]]["created"], 40)
        osaka = [m["institution"] for m in self.media_list(cycle).values()
                 if m["municipality"] == OSAKA[0]]
        self.assertEqual(len(osaka), 40)  # one media each: none made twice
        self.assertEqual(len(set(osaka)), 40)

    def test_cycle_calendar_and_adjusting_a_cycle(self):
        op = self.operator()
        this, nxt = self.today_cycle()
        r = op.get("/cycles")
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertIn('href="/operator/media?cycle=%s"' % this["id"], r.text)
        rows = {cells[0]: cells for cells in table_rows(r.text)}
        self.assertIn(this["id"], rows)
        self.assertIn("%s〜%s" % (this["registration_from"], this["registration_to"]), rows[this["id"]][1])
        # adjust a cycle a few cycles ahead: its delivery window ends two days later
        later = [c for c in self.cycles("--from", today_jst().isoformat())
                 if c["registration_from"] > today_jst().isoformat()][3]
        form = {k: later[k] for k in CYCLE_FIELDS - {"id"}}
        new_to = (day(later["delivery_to"]) + datetime.timedelta(days=2)).isoformat()
        token = op.page_csrf("/cycles")
        self.assertStatus(op.post("/cycles/" + later["id"], dict(form, delivery_to=new_to)), 403)  # no csrf
        for label, bad in (("not a date", {"media_to": "2031/01/01"}), ("no such day", {"media_to": "2031-02-30"}),
                           ("empty", {"registration_from": ""}),
                           ("reversed", {"media_from": later["media_to"], "media_to": later["media_from"]}),
                           ("media before registration ends", {"media_from": later["registration_to"]})):
            with self.subTest(invalid=label):
                if label == "reversed" and later["media_from"] == later["media_to"]:
                    continue
                self.assertStatus(op.post("/cycles/" + later["id"], dict(form, csrf=token, **bad)), 400)
        self.assertStatus(op.post("/cycles/1999-01-04", dict(form, csrf=token)), 404)
        self.assertEqual([c for c in self.cycles() if c["id"] == later["id"]], [later])
        r = op.post("/cycles/" + later["id"], dict(form, csrf=token, delivery_to=new_to))
        self.assertRedirect(r, "/cycles?done=adjusted")
        self.assertIn("変更しました", visible_text(op.get(r.location).text))
        after = [c for c in self.cycles() if c["id"] == later["id"]]
        self.assertEqual(after, [dict(later, delivery_to=new_to)])
        audited = self.audit_rows("cycle_adjust", target=later["id"])
        self.assertEqual(len(audited), 1, audited)
        self.assertEqual(audited[0]["actor"], op.user_id)
        self.assertIn(new_to, audited[0]["detail"])

    def test_board_build_and_pack_from_the_screen(self):
        op = self.operator()
        cycle = self.today_cycle()[0]["id"]
        r = op.get("/operator/media?cycle=" + cycle)
        self.assertStatus(r, 200)
        self.assertJapanesePage(r)
        self.assertEqual(self.board(op, cycle), {})
        self.assertIn("このサイクルの媒体はまだありません", visible_text(r.text))
        self.assertStatus(op.get("/operator/media?cycle=1999-01-04"), 404)
        # the board without a cycle shows today's
        self.assertIn("サイクル %s" % cycle, visible_text(op.get("/operator/media").text))
        chiyoda = self.register(CHIYODA, self.new_institutions(CHIYODA, 3))
        self.register(SAPPORO, self.new_institutions(SAPPORO, 1))
        token = op.page_csrf("/operator/media?cycle=" + cycle)
        self.assertStatus(op.post("/operator/media/build", {"cycle": cycle}), 403)
        self.assertStatus(op.post("/operator/media/build", {"csrf": token, "cycle": "1999-01-04"}), 400)
        self.assertStatus(op.post("/operator/media/pack", {"csrf": token}), 400)
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        # built in the background: while it runs, a second build and packing are refused
        # (four media take a few hundred milliseconds; these requests take a few)
        busy = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertStatus(busy, 409)
        self.assertIn("媒体を作成中です", visible_text(busy.text))
        busy = op.post("/operator/media/pack", {"csrf": token, "cycle": cycle})
        self.assertStatus(busy, 409)
        self.assertIn("媒体を作成中のため梱包できません", visible_text(busy.text))
        self.assertIn("媒体を作成しました：4 件", self.wait_for_build(op, r.location))
        self.assertEqual(self.board(op, cycle), {
            CHIYODA[0]: dict(zip(STATUSES, (3, 0, 0, 0, 0, 0, 0))),
            SAPPORO[0]: dict(zip(STATUSES, (1, 0, 0, 0, 0, 0, 0)))})
        created = self.audit_rows("media_create", actor=op.user_id)
        self.assertEqual(len(created), 4, created)
        # built with the server's template
        iso = next(m["iso"] for m in self.media_list(cycle).values())
        with open(os.path.join(self._template, "はじめにお読みください.txt"), "rb") as f:
            self.assertEqual(rock_ridge_read(iso, "/はじめにお読みください.txt"), f.read())
        r = op.post("/operator/media/build", {"csrf": token, "cycle": cycle, "early": "1"})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=building" % cycle)
        self.assertIn("媒体を作成しました：0 件", self.wait_for_build(op, r.location))
        r = op.post("/operator/media/pack", {"csrf": token, "cycle": cycle})
        self.assertRedirect(r, "/operator/media?cycle=%s&done=packed&count=2" % cycle)
        self.assertIn("梱包を作成しました：2 件", visible_text(op.get(r.location).text))
        # packed, not shipped: 発送 is the operator's next step, with the Letter Pack's number
        self.assertEqual(self.board(op, cycle)[CHIYODA[0]], dict(zip(STATUSES, (0, 3, 0, 0, 0, 0, 0))))
        self.assertEqual(len(self.audit_rows("package_create", actor=op.user_id)), 2)
        board = op.get("/operator/media?cycle=" + cycle).text
        for pid in re.findall(r'action="/operator/packages/(\d+)/ship"', board):
            self.assertEqual(op.post("/operator/packages/%s/ship" % pid,
                                     {"csrf": token, "tracking_number": letter_pack_number()}).status,
                             303)
        self.assertEqual(self.board(op, cycle)[CHIYODA[0]], dict(zip(STATUSES, (0, 0, 3, 0, 0, 0, 0))))
        # the municipality's steps show on the board
        staff = self.staff(CHIYODA)
        page = self.media_page(staff)
        pid = int(re.search(r'action="/media/packages/(\d+)/receive"', page.text).group(1))
        self.assertRedirect(staff.post("/media/packages/%d/receive" % pid, {"csrf": staff.page_csrf("/media")}),
                            "/media?done=received")
        ids = sorted(self.media_rows(staff))
        self.assertEqual(len(ids), 3)
        self.assertRedirect(staff.post("/media/%d/forward" % ids[0], {"csrf": staff.page_csrf("/media"),
                                                                     "date": today_jst().isoformat()}),
                            "/media?done=forwarded")
        self.assertRedirect(staff.post("/media/%d/damage" % ids[1], {"csrf": staff.page_csrf("/media"),
                                                                    "note": "割れていた"}),
                            "/media?done=damaged")
        self.assertEqual(self.board(op, cycle), {
            CHIYODA[0]: dict(zip(STATUSES, (0, 0, 0, 1, 1, 1, 0))),
            SAPPORO[0]: dict(zip(STATUSES, (0, 0, 1, 0, 0, 0, 0)))})
        self.assertEqual(sum(len(v) for v in chiyoda.values()), 3)


class MediaBuildFailureTests(MediaHelpers):
    """A media that cannot be built (issue 14, finding 2): an institution name with a line break
    and an OpenVPN directive, written straight into the database as older data or another tool
    could have left it (the forms and files now refuse or flatten it), makes the certificate step
    refuse that one media; the build still makes the others, names the bad one (municipality,
    institution code and name) in its result and in a media_build_failed audit record, and says so
    again on every retry without rebuilding what exists."""

    BAD_NAME = "悪意\nup /bin/sh -c id\u202e院病"

    def set_institution_name(self, code, name):
        """Writes name as the institution's name directly in the database (SQLite or PostgreSQL)."""
        sql = "UPDATE institutions SET name = ? WHERE code = ?"
        if self.pg is not None:
            nsdbtest._psql(self.pg.url, nsdbtest._sql_inline(sql, (name, code)))
            return
        db = sqlite3.connect(self.database_file(), timeout=30)
        try:
            with db:
                self.assertEqual(db.execute(sql, (name, code)).rowcount, 1)
        finally:
            db.close()

    def test_the_others_are_built_and_the_bad_one_is_named(self):
        cycle = self.today_cycle()[0]["id"]
        good = self.new_institutions(CHIYODA, 2) + self.new_institutions(SAPPORO, 1)
        bad = self.new_institutions(CHIYODA, 1)
        self.register(CHIYODA, good[:2] + bad)
        self.register(SAPPORO, good[2:])
        bad_code = bad[0][0]
        self.set_institution_name(bad_code, self.BAD_NAME)
        # the form now refuses the name's bidi control, naming the field
        staff = self.staff(CHIYODA)
        r = staff.post("/inst-users/new", {"csrf": staff.page_csrf("/inst-users/new"),
                                           "inst_name": "病院\u202e"})
        self.assertIn("医療機関名に使用できない文字（U+202E）", visible_text(r.text))

        for attempt in range(2):
            with self.subTest(attempt=attempt):
                r = self.cli("media", "build", "--cycle", cycle, "--template", self.template_dir(),
                             "--json")
                self.assertEqual(r.code, 1, r)
                built = r.json()
                expected = set() if attempt else {code for code, _, _ in good}
                self.assertEqual({b["institution"] for b in built}, expected)
                self.assertIn("%d 件の媒体を作成しました。1 件は作成できませんでした" % len(expected),
                              r.stderr)
                self.assertIn("%s 千代田区 %s「悪意<U+000A>up /bin/sh -c id<U+202E>院病」" %
                              (CHIYODA[0], bad_code), r.stderr)
                self.assertIn("VPN 証明書", r.stderr)
                self.assertNotIn("\u202e", r.stderr)
        listed = self.media_list(cycle)
        self.assertEqual({m["institution"] for m in listed.values()}, {code for code, _, _ in good})
        failed = self.audit_rows("media_build_failed")
        self.assertEqual(len(failed), 2, failed)
        for row in failed:
            self.assertEqual(row["result"], "failed", row)
            self.assertIn(bad_code, row["detail"])
            self.assertIn("悪意<U+000A>up /bin/sh -c id<U+202E>院病", row["detail"])
        # once the name is corrected, the next build makes the missing media
        self.set_institution_name(bad_code, "訂正病院")
        out = self.media_build(cycle)
        self.assertEqual([b["institution"] for b in out], [bad_code])
        ovpn = rock_ridge_read(out[0]["iso"], "/証明書/nsdb-vpn.ovpn").decode("utf-8")
        self.assertIn('（医療機関 %s "訂正病院"）' % bad_code, ovpn)


for_each_binary(globals(), CycleTests, MediaBuildTests, PackingTests, ReceiptTests, OperatorTests,
                MediaBuildFailureTests, typed_passwords=(GOOD_PASSWORD,))
