#!/usr/bin/env python3
"""Helpers for the mail throughput benchmark in bench/run.sh (standard library only).

  mail_bench.py csv N OUT.csv
      Writes an admin application list (管理者権限のユーザID申請リスト, SPEC §5.1) with N 新規 rows:
      valid municipality codes (check digit: weights 6,5,4,3,2 over the first five digits,
      (11 − sum mod 11) mod 10) and distinct e-mail addresses. Convert it to xlsx with LibreOffice.

  mail_bench.py issue URL MHLW_ID MHLW_INITIAL OPERATOR_ID OPERATOR_INITIAL NEW_PASSWORD XLSX
      Through HTTP, as a browser would: the mhlw user logs in (forced password change), uploads
      the list and approves it; the operator logs in (forced change) and issues it (払出し), which
      queues one mail per 新規 row in the outbox. Prints one JSON object (list path, rows issued,
      seconds of the upload, approval and 払出し requests).

  mail_bench.py floor HOST PORT N SAMPLE.eml [reuse]
      The floor: sends N copies of SAMPLE.eml (a message nsdb sent, so same size and encoding)
      with smtplib to HOST:PORT, one connection per message as nsdb's libcurl sender does (or,
      with "reuse", all over one connection). Prints "mails=N seconds=S per_s=R".
"""
import http.client
import json
import os
import re
import smtplib
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import conn_for, cookies_from, cookie_header, csrf_from, first_login, request  # noqa: E402

HEADER = ("No,地方公共団体コード,地方公共団体名,難病/小慢,部署名,役職,氏名,氏名カナ,"
          "メールアドレス,電話番号,内線,申請区分,備考,郵便番号,所属先住所")

# (first five digits, name, 郵便番号, 所属先住所); the sixth digit is computed.
MUNICIPALITIES = [
    ("13101", "千代田区", "100-8511", "東京都千代田区九段南1-2-1"),
    ("01100", "札幌市", "060-8611", "北海道札幌市中央区北1条西2丁目"),
    ("27100", "大阪市", "530-8201", "大阪府大阪市北区中之島1-3-20"),
    ("14100", "横浜市", "231-0005", "神奈川県横浜市中区本町6-50-10"),
    ("23100", "名古屋市", "460-8508", "愛知県名古屋市中区三の丸3-1-1"),
    ("40130", "福岡市", "810-8620", "福岡県福岡市中央区天神1-8-1"),
]
SURNAMES = [("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ")]


def check_digit(five):
    s = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2)))
    return (11 - s % 11) % 10


def write_csv(n, path):
    lines = [HEADER]
    for i in range(n):
        five, name, postal, address = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        code = f"{five}{check_digit(five)}"
        sur, sur_k = SURNAMES[i % len(SURNAMES)]
        giv, giv_k = GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        cat = "難病" if i % 2 == 0 else "小慢"
        lines.append(f"{i + 1},{code},{name},{cat},保健福祉部,主事,{sur} {giv},{sur_k} {giv_k},"
                     f"bench{i + 1:05d}@example.lg.jp,03-1234-{i % 10000:04d},,新規,,{postal},{address}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def fail(msg):
    raise SystemExit(f"mail_bench.py: {msg}")


def login_changed(url, user_id, initial, new):
    """Logs in with the initial password and does the forced change; returns (conn, jar)."""
    return first_login(url, user_id, initial, new, "mail_bench.py")


def post_multipart(conn, path, jar, fields, file_field, filename, data):
    boundary = "----nsdbbench" + uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                  f'filename="{filename}"\r\nContent-Type: application/vnd.openxmlformats-'
                  f'officedocument.spreadsheetml.sheet\r\n\r\n').encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    body = b"".join(parts)
    conn.request("POST", path, body=body, headers={
        "Cookie": cookie_header(jar), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    jar.update(cookies_from(resp))
    return resp.status, resp.getheader("Location"), text


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def issue(url, mhlw_id, mhlw_initial, op_id, op_initial, new_password, xlsx):
    with open(xlsx, "rb") as f:
        data = f.read()
    c, jar = login_changed(url, mhlw_id, mhlw_initial, new_password)
    st, _, html = request(c, "GET", "/admin-lists", jar)
    (st, loc, body), t_upload = timed(lambda: post_multipart(
        c, "/admin-lists", jar, {"csrf": csrf_from(html)}, "file", os.path.basename(xlsx), data))
    if st != 303 or not re.fullmatch(r"/admin-lists/\d+", loc or ""):
        errors = re.findall(r"<tr><td>(\d+)</td><td>([A-Z]+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", body)
        fail(f"upload -> {st} {loc}; errors: {errors[:5] or body[:1500]}")
    detail = loc
    st, _, html = request(c, "GET", detail, jar)
    (st, loc, body), t_approve = timed(lambda: request(c, "POST", f"{detail}/approve", jar, {"csrf": csrf_from(html)}))
    if st != 303:
        fail(f"approve -> {st} {loc}\n{body[:1500]}")
    c.close()

    c, jar = login_changed(url, op_id, op_initial, new_password)
    st, _, html = request(c, "GET", detail, jar)
    if st != 200:
        fail(f"operator GET {detail} -> {st}")
    (st, loc, body), t_issue = timed(lambda: request(c, "POST", f"{detail}/issue", jar, {"csrf": csrf_from(html)}))
    if st != 303 or not (loc or "").endswith("notice=issued"):
        fail(f"払出し -> {st} {loc}\n{body[:1500]}")
    st, _, html = request(c, "GET", detail, jar)
    issued = len(re.findall(r"<br>ユーザID [0-9A-Z]{12}</td>", html))
    c.close()
    print(json.dumps({"list": detail, "issued_users": issued, "upload_s": round(t_upload, 3),
                      "approve_s": round(t_approve, 3), "issue_s": round(t_issue, 3)}))


def floor(host, port, n, sample, reuse=False):
    with open(sample, "rb") as f:
        msg = f.read()
    if not msg.endswith(b"\r\n"):
        msg += b"\r\n"
    t0 = time.monotonic()
    s = None
    for i in range(n):
        if s is None:
            s = smtplib.SMTP(host, port, timeout=30)
            s.ehlo("nsdb-bench")
        s.sendmail("noreply@example.go.jp", [f"floor{i:05d}@example.lg.jp"], msg)
        if not reuse:
            s.quit()
            s = None
    if s is not None:
        s.quit()
    dt = time.monotonic() - t0
    print(f"mails={n} seconds={dt:.3f} per_s={n / dt:.1f}")


def main(argv):
    if len(argv) == 4 and argv[1] == "csv":
        write_csv(int(argv[2]), argv[3])
    elif len(argv) == 9 and argv[1] == "issue":
        issue(*argv[2:9])
    elif len(argv) in (6, 7) and argv[1] == "floor":
        floor(argv[2], int(argv[3]), int(argv[4]), argv[5], len(argv) == 7 and argv[6] == "reuse")
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
