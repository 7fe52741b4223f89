#!/usr/bin/env python3
"""Flow II helpers for bench/run.sh (issue 4, item 9; standard library only).

  inst_bench.py csv N OUT FIRST_INSTITUTION [PER_INSTITUTION]
      Writes a valid 指定医一括登録ファイル (SPEC §5.2, UTF-8, CRLF) of N rows: institutions
      numbered from FIRST_INSTITUTION in groups of PER_INSTITUTION users (default 10, at most 10;
      the first one the 責任者, the others 指定医), each with a valid 10-digit code (Luhn),
      katakana names unique within the institution. Prints "rows=N bytes=B institutions=I".

  inst_bench.py import URL SESSION FILE
      GET /inst-users/new?tab=bulk for the csrf token, then POST /inst-users/import (multipart,
      the file). Only a 303 to /inst-users/import/N counts. Works with a synchronous import (the
      POST answers when it is done) and a background one (the batch page is a progress page with
      a meta refresh while it runs): the 303 is followed and /inst-users/import/N fetched every
      0.25 s while it holds http-equiv="refresh"; the time runs from the first byte of the POST
      to the page without it, which must say "N 人の医療機関ユーザを登録しました". Prints JSON:
      seconds, post_seconds (the POST's answer alone), polls, status, batch, users, bytes; and
      "answer" (the page's text) when the import was refused.

  inst_bench.py ids URL SESSION BATCH OUT
      Writes the user IDs of an import batch (from /inst-users/import/BATCH/users.csv), one a
      line. Prints the count.

  inst_bench.py notices URL SESSION IDS_FILE N REPEAT OUT
      POSTs /inst-users/notices.pdf with the first N user IDs of IDS_FILE, REPEAT times (the
      users stay printable: 発行済 prints again). Only 200 application/pdf answers count.
      Writes the last PDF to OUT and prints JSON: seconds (each run), median, bytes, pages.
"""
import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse

FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
          ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
          ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
          ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
          ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
          ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
          ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
          ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
          ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
          ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"),
         ("健太", "ケンタ"), ("由美子", "ユミコ"), ("大輔", "ダイスケ"), ("陽子", "ヨウコ"),
         ("翔太", "ショウタ"), ("恵子", "ケイコ"), ("拓也", "タクヤ"), ("直美", "ナオミ"),
         ("誠", "マコト"), ("裕子", "ユウコ"), ("亮", "リョウ"), ("真由美", "マユミ"),
         ("隆", "タカシ"), ("明美", "アケミ"), ("浩二", "コウジ"), ("京子", "キョウコ"),
         ("哲也", "テツヤ"), ("智子", "トモコ"), ("修", "オサム"), ("久美子", "クミコ"),
         ("和也", "カズヤ"), ("聡子", "サトコ"), ("剛", "ツヨシ"), ("洋子", "ヨウコ"),
         ("学", "マナブ"), ("幸子", "サチコ"), ("勇気", "ユウキ"), ("千尋", "チヒロ"),
         ("大介", "ダイスケ"), ("優子", "ユウコ"), ("悠斗", "ユウト"), ("結衣", "ユイ"),
         ("蓮", "レン"), ("葵", "アオイ"), ("湊", "ミナト"), ("陽菜", "ヒナ")]
SPECIALTIES = ["内科", "小児科", "神経内科", "整形外科", "眼科", "皮膚科", "循環器内科", "腎臓内科"]
CATEGORIES = ["難病", "小慢", "両方"]
HEADER = ("医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,"
          "氏名,氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス")


def luhn_code(first9):
    s = 0
    for i, ch in enumerate(reversed(first9)):
        d = int(ch)
        if i % 2 == 0:  # the payload's rightmost digit is doubled
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return first9 + str((10 - s % 10) % 10)


def make_csv(n, out, first, per=10):
    if not 1 <= per <= 10:
        raise SystemExit("inst_bench.py: PER_INSTITUTION must be 1 to 10")
    lines = [HEADER]
    inst = first - 1
    for i in range(n):
        j = i % per
        if j == 0:
            inst += 1
            code = luhn_code(f"131{inst:06d}")
            inst_cells = (f"{code},医療法人ベンチ会 第{inst}病院,100-{inst % 10000:04d},"
                          f"東京都千代田区千代田{inst // 1000 + 1}丁目{inst % 1000 + 1}番1号 ベンチ医療ビル{inst % 9 + 1}階,"
                          f"03-{1000 + inst // 10000:04d}-{inst % 10000:04d}")
        # up to ten distinct (family, given) pairs per institution, varied between institutions
        f = (inst * 7 + j) % len(FAMILY)
        g = (inst * 3 + j * 11) % len(GIVEN)
        name = f"{FAMILY[f][0]} {GIVEN[g][0]}"
        kana = f"{FAMILY[f][1]} {GIVEN[g][1]}"
        category = CATEGORIES[(inst + j) % 3]
        if j == 0:
            kind, number = "責任者", ""
        else:
            kind, number = "指定医", f"D{inst:06d}-{j}"
        specialty = SPECIALTIES[(inst + j) % len(SPECIALTIES)]
        email = f"doctor{j}.inst{inst}@bench-hospital.example.jp"
        lines.append(f"{inst_cells},{kind},{name},{kana},{category},{number},{specialty},{email}")
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    with open(out, "wb") as f:
        f.write(data)
    print(f"rows={n} bytes={len(data)} institutions={inst - first + 1}")


def conn_for(url, timeout=600):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)


def get(conn, path, session):
    conn.request("GET", path, headers={"Cookie": f"nsdb_session={session}"})
    r = conn.getresponse()
    return r.status, r.read()


def csrf_of(conn, session):
    st, body = get(conn, "/inst-users/new?tab=bulk", session)
    m = re.search(rb'name="csrf" value="([^"]+)"', body)
    if st != 200 or not m:
        raise SystemExit(f"inst_bench.py: GET /inst-users/new?tab=bulk -> {st}, no csrf")
    return m.group(1).decode()


DONE_RE = re.compile(r"([0-9,]+) 人の医療機関ユーザを登録しました")
# How often the progress page is asked for while an import runs: every 50 ms, so an import's time
# is its own to within 50 ms (at 250 ms, the wait for the next poll was up to 7% of a 3.5 s import).
# Each poll is one small page, nothing the import waits for.
POLL_SECONDS = 0.05
IMPORT_TIMEOUT_SECONDS = 3600


def text_of(html):
    text = re.sub(r"<[^>]+>", " ", html.decode("utf-8", "replace"))
    return re.sub(r"\s+", " ", text)[:1500]


def run_import(url, session, path):
    """POSTs FILE and waits for the batch page without a meta refresh; returns the JSON dict.
    The one place that knows how an import is started and when it has ended (the benchmarks in
    run.sh and bench/import_load.py all come through here)."""
    c = conn_for(url)
    token = csrf_of(c, session)
    with open(path, "rb") as f:
        content = f.read()
    boundary = "----nsdbbench7d1f3a"
    name = path.rsplit("/", 1)[-1]
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "Content-Type: text/csv\r\n\r\n".encode(),
        content,
        f"\r\n--{boundary}--\r\n".encode(),
    ])
    headers = {"Cookie": f"nsdb_session={session}",
               "Content-Type": f"multipart/form-data; boundary={boundary}",
               "Content-Length": str(len(body))}
    t0 = time.perf_counter()
    c.request("POST", "/inst-users/import", body=body, headers=headers)
    r = c.getresponse()
    answer = r.read()
    post_seconds = time.perf_counter() - t0
    loc = r.getheader("Location") or ""
    m = re.fullmatch(r"/inst-users/import/(\d+)", loc)
    out = {"seconds": None, "post_seconds": round(post_seconds, 3), "polls": 0, "status": r.status,
           "batch": int(m.group(1)) if m else None, "users": None, "bytes": len(body)}
    if r.status != 303 or not m:
        out["seconds"] = round(post_seconds, 3)
        out["batch"] = None
        out["answer"] = text_of(answer)
        return out
    while True:
        st, page = get(conn_for(url), loc, session)  # a new connection: the POST's may be closed
        if 200 <= st < 300 and b'http-equiv="refresh"' in page:
            if time.perf_counter() - t0 > IMPORT_TIMEOUT_SECONDS:
                raise SystemExit(f"inst_bench.py: {loc} still in progress after {IMPORT_TIMEOUT_SECONDS} s")
            out["polls"] += 1
            time.sleep(POLL_SECONDS)
            continue
        break
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out["status"] = st
    done = DONE_RE.search(page.decode("utf-8", "replace")) if st == 200 else None
    if done:
        out["users"] = int(done.group(1).replace(",", ""))
    else:  # refused (row errors) or failed: the batch page says why
        out["batch"] = None
        out["answer"] = text_of(page)
    return out


def do_import(url, session, path):
    out = run_import(url, session, path)
    print(json.dumps(out, ensure_ascii=False))
    return 0 if out["batch"] else 1


def ids(url, session, batch, out):
    c = conn_for(url)
    st, body = get(c, f"/inst-users/import/{batch}/users.csv", session)
    if st != 200:
        raise SystemExit(f"inst_bench.py: users.csv of batch {batch} -> {st}")
    lines = body.decode("utf-8-sig").splitlines()
    col = lines[0].split(",").index("ユーザID")
    got = [ln.split(",")[col] for ln in lines[1:] if ln]
    with open(out, "w") as f:
        f.write("\n".join(got) + "\n")
    print(len(got))


def notices(url, session, ids_file, n, repeat, out):
    with open(ids_file) as f:
        users = [ln.strip() for ln in f if ln.strip()][:n]
    if len(users) < n:
        raise SystemExit(f"inst_bench.py: only {len(users)} user IDs in {ids_file}")
    c = conn_for(url)
    token = csrf_of(c, session)
    body = urllib.parse.urlencode([("csrf", token)] + [("user_id", u) for u in users])
    runs, pdf = [], b""
    for _ in range(repeat):
        t0 = time.perf_counter()
        c.request("POST", "/inst-users/notices.pdf", body=body,
                  headers={"Cookie": f"nsdb_session={session}",
                           "Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        pdf = r.read()
        runs.append(time.perf_counter() - t0)
        if r.status != 200 or not pdf.startswith(b"%PDF-"):
            raise SystemExit(f"inst_bench.py: notices.pdf -> {r.status} {r.getheader('Content-Type')}: "
                             f"{pdf[:500]!r}")
    with open(out, "wb") as f:
        f.write(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    print(json.dumps({"seconds": [round(s, 3) for s in runs], "median": round(statistics.median(runs), 3),
                      "bytes": len(pdf), "pages": pages}))


def main(argv):
    if len(argv) >= 5 and argv[1] == "csv":
        make_csv(int(argv[2]), argv[3], int(argv[4]), int(argv[5]) if len(argv) > 5 else 10)
    elif len(argv) == 5 and argv[1] == "import":
        return do_import(argv[2], argv[3], argv[4])
    elif len(argv) == 6 and argv[1] == "ids":
        ids(argv[2], argv[3], argv[4], argv[5])
    elif len(argv) == 8 and argv[1] == "notices":
        notices(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), argv[7])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
