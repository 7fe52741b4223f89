#!/usr/bin/env python3
"""Registrations for the media benchmark in bench/run.sh (standard library only).

  media_register.py login URL USER_ID INITIAL_PASSWORD NEW_PASSWORD
      Logs the municipal staff user in with the initial password, does the forced password change
      and prints the session cookie value (nsdb_session).

  media_register.py register URL SESSION FIRST N
      Registers N new institutions, one 指定医 each, numbered from FIRST (institution codes
      9-digit serial + Luhn check digit), with one 一括登録 CSV (POST /inst-users/import) — as
      municipal staff do; they fall into today's cycle. Prints one JSON object (rows, seconds).
"""
import json
import os
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import conn_for, cookies_from, cookie_header, csrf_from, first_login, request  # noqa: E402

HEADER = ("医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,"
          "氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス")
KANA_DIGITS = "アイウエオカキクケコ"


def fail(msg):
    raise SystemExit(f"media_register.py: {msg}")


def luhn_code(first9):
    total = 0
    for i, ch in enumerate(reversed(first9)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return first9 + str((10 - total % 10) % 10)


def csv_body(first, n):
    lines = [HEADER]
    for i in range(first, first + n):
        code = luhn_code(f"5{i:08d}")
        kana = "".join(KANA_DIGITS[int(c)] for c in str(i))
        lines.append(f"{code},ベンチ記念病院{i},100-0001,東京都千代田区千代田1-{i},03-1234-5678,指定医,"
                     f"指定 医{i},シテイ {kana},難病,D-{i:07d},内科,")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def login(url, user_id, initial, new):
    _, jar = first_login(url, user_id, initial, new, "media_register.py")
    print(jar["nsdb_session"])


def register(url, session, first, n):
    c = conn_for(url)
    jar = {"nsdb_session": session}
    st, _, html = request(c, "GET", "/inst-users/new?tab=bulk", jar)
    if st != 200:
        fail(f"GET /inst-users/new -> {st}")
    boundary = "----nsdbbench" + uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf_from(html)}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.csv"\r\n'
            f'Content-Type: text/csv\r\n\r\n').encode() + csv_body(first, n) + f"\r\n--{boundary}--\r\n".encode()
    t0 = time.monotonic()
    c.request("POST", "/inst-users/import", body=body, headers={
        "Cookie": cookie_header(jar), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    resp = c.getresponse()
    text = resp.read().decode("utf-8", "replace")
    jar.update(cookies_from(resp))
    dt = time.monotonic() - t0
    loc = resp.getheader("Location") or ""
    if resp.status != 303 or not re.fullmatch(r"/inst-users/import/\d+", loc):
        fail(f"import of {n} rows -> {resp.status} {loc}\n{text[:2000]}")
    print(json.dumps({"rows": n, "import_s": round(dt, 3), "result": loc}))


def main(argv):
    if len(argv) == 6 and argv[1] == "login":
        login(*argv[2:6])
    elif len(argv) == 6 and argv[1] == "register":
        register(argv[2], argv[3], int(argv[4]), int(argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
