#!/usr/bin/env python3
"""make_corpus.py — writes the seed corpora of the libFuzzer harnesses into tests/fuzz/corpus/
(run from anywhere; overwrites the files it makes, leaves others, such as crash inputs added by
hand and the xlsx forms written by libxlsxwriter, alone). Seeds are small valid inputs and a few
broken ones: 指定医一括登録 CSV files in UTF-8 (with and without BOM) and CP932, RFC 4180 corner
cases, xlsx workbooks made here with zipfile (and one by LibreOffice from a CSV when soffice is
installed), raw XML parts for fuzz_xlsx_xml, multipart bodies and templates with values."""
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
SEP = b"\n=====\n"  # FUZZ_SEPARATOR in fuzz_support.h


def luhn_code(payload):
    """A 10-digit institution code: payload (9 digits) and its check digit (domain/ids.c)."""
    total, doubled = 0, True
    for ch in reversed(payload):
        d = int(ch)
        if doubled:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
        doubled = not doubled
    return payload + str((10 - total % 10) % 10)


def write(harness, name, data):
    folder = os.path.join(CORPUS, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


HEADER = ("医療機関コード,医療機関名,医療機関郵便番号,医療機関所在地,医療機関電話番号,ユーザ種別,氏名,"
          "氏名カナ,難病/小慢,指定医番号,診療科,メールアドレス")
TOKYO, OSAKA, HOKKAIDO = luhn_code("131000001"), luhn_code("271000002"), luhn_code("011000003")
ROWS = [
    [TOKYO, "東京中央病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678", "責任者",
     "山田 花子", "ヤマダ ハナコ", "難病", "", "", "hanako@example.jp"],
    [TOKYO, "東京中央病院", "100-0001", "東京都千代田区千代田1-1", "03-1234-5678", "指定医",
     "鈴木 一郎", "すずき いちろう", "小慢", "AB-12345", "小児科", ""],
    [OSAKA, "大阪﨑病院", "530-0001", "大阪府大阪市北区梅田1-1", "06-1234-5678", "指定医",
     "髙橋 次郎", "ﾀｶﾊｼ ｼﾞﾛｳ", "両方", "X1", "内科", "jiro@example.jp"],
    [HOKKAIDO[1:], "札幌病院", "0600001", "北海道札幌市中央区北1条西1", "011-123-4567", "指定医",
     "佐藤 三郎", "サトウ サブロウ", "難病", "Z-9", "", ""],
]


def csv_text(rows, newline="\r\n"):
    def cell(v):
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v
    return newline.join([HEADER] + [",".join(cell(v) for v in r) for r in rows]) + newline


def csv_seeds():
    good = csv_text(ROWS)
    seeds = {
        "utf8_bom.csv": b"\xef\xbb\xbf" + good.encode("utf-8"),
        "utf8_lf.csv": csv_text(ROWS[:2], "\n").encode("utf-8"),
        "cp932.csv": good.encode("cp932"),
        "errors.csv": csv_text([["1234567890", "病院\t名", "1000001", "", "03", "医師", "",
                                 "Yamada", "難病", "", "", "not-an-email"],
                                ROWS[1], ROWS[1]]).encode("utf-8"),
        "quoted.csv": ('a,"b ""q"" c","line\r\nbreak",\r\n"",x\r"cr only"\n\n"tail"').encode(),
        "unclosed.csv": b'a,b\r\n"never closed,\r\nx\r\n',
        "quote_inside.csv": b'a,b"c\r\n',
        "header_only.csv": (HEADER + "\r\n").encode("utf-8"),
        "not_text.csv": b"\x81\x00\xff\xfe,\x82\xa0\r\n",
    }
    for name, data in seeds.items():
        write("csv", name, data)
        write("inst_import", name, data)
    write("inst_import", "two_files", seeds["utf8_bom.csv"] + SEP + seeds["cp932.csv"])


CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="申請" sheetId="2" r:id="rId7"/><sheet name="other" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/data.xml"/><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="strings/../sharedStrings.xml"/></Relationships>"""
SHARED_STRINGS = """<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>札幌市</t></si><si><r><rPr><b/></rPr><t>難病</t></r><r><t xml:space="preserve">・小慢 </t></r><rPh sb="0" eb="2"><t>ナンビョウ</t></rPh><phoneticPr fontId="1"/></si><si><t>a_x000D_b_x005F_x0041_</t></si><si/></sst>"""
OTHER_SHEET = """<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>wrong sheet</t></is></c></row></sheetData></worksheet>"""
DATA_SHEET = """<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>No</x:t></x:is></x:c><x:c r="C2" t="inlineStr"><x:is><x:r><x:t>山田</x:t></x:r><x:r><x:t xml:space="preserve"> 太郎</x:t></x:r><x:rPh sb="0" eb="2"><x:t>ヤマダ</x:t></x:rPh></x:is></x:c><x:c r="B2" t="s"><x:v>0</x:v></x:c></x:row><x:row r="3"><x:c r="A3"><x:v>1.31016E5</x:v></x:c><x:c r="B3" t="n"><x:v>131016.0</x:v></x:c><x:c r="C3"><x:v>0.25</x:v></x:c><x:c r="D3"><x:v>-0</x:v></x:c><x:c r="E3"><x:v>1E+20</x:v></x:c><x:c r="F3"><x:v>11002</x:v></x:c></x:row><x:row r="4" spans="1:3"/><x:row><x:c t="b"><x:v>1</x:v></x:c><x:c t="b"><x:v>0</x:v></x:c><x:c t="e"><x:v>#N/A</x:v></x:c><x:c t="str"><x:f>CONCAT("a","b")</x:f><x:v>ab</x:v></x:c><x:c t="s"><x:v>1</x:v></x:c><x:c t="s"><x:v>2</x:v></x:c><x:c/><x:c><x:f>1+1</x:f></x:c><x:c t="inlineStr"><x:is><x:t/></x:is></x:c><x:c r="AB5" t="inlineStr"><x:is><x:t>far</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>"""
PLAIN_SHEET = """<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1"><v>42</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>x</t></is></c><c r="XFD3" t="d"><v>2026-12-06</v></c></row></sheetData></worksheet>"""
PLAIN_STRINGS = """<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>医療機関コード</t></si><si><t xml:space="preserve"> 名 _x0009_</t></si></sst>"""
SIMPLE_WORKBOOK = """<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
SIMPLE_RELS = """<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://example/external" Target="http://example.com/" TargetMode="External"/></Relationships>"""

HANDMADE = [
    ("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
    ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ("xl/sharedStrings.xml", SHARED_STRINGS), ("xl/worksheets/sheet1.xml", OTHER_SHEET),
    ("xl/worksheets/data.xml", DATA_SHEET),
]


def zip_bytes(parts, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, text)
    return buf.getvalue()


def xlsx_seeds():
    good = zip_bytes(HANDMADE)
    stored = zip_bytes(HANDMADE, zipfile.ZIP_STORED)
    seeds = {
        "handmade.xlsx": good,
        "handmade_stored.xlsx": stored,
        "truncated.xlsx": good[: len(good) // 2],
        "no_workbook.xlsx": zip_bytes([("hello.txt", "hello")]),
        "dtd.xlsx": zip_bytes(HANDMADE[:5] + [("xl/worksheets/data.xml",
                                                 '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aa">]>'
                                                 "<worksheet>&a;</worksheet>")]),
        "missing_sheet.xlsx": zip_bytes(HANDMADE[:5]),
        "ole.xls": bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) + b"\0" * 24,
    }
    for name, data in seeds.items():
        write("xlsx", name, data)
    write("inst_import", "handmade.xlsx", good)
    write("inst_import", "csv_and_xlsx", csv_text(ROWS[:1]).encode() + SEP + good)
    soffice = shutil.which("soffice")
    if soffice:  # a workbook as LibreOffice writes it
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "list.csv")
            with open(src, "w", encoding="utf-8") as f:
                f.write(csv_text(ROWS[:2]))
            subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", "xlsx", "--infilter=CSV:44,34,76", "--outdir", tmp, src],
                           check=True, capture_output=True, timeout=120)
            with open(os.path.join(tmp, "list.xlsx"), "rb") as f:
                data = f.read()
            write("xlsx", "libreoffice.xlsx", data)
            write("inst_import", "libreoffice.xlsx", data)


def xlsx_xml_seeds():
    write("xlsx_xml", "data_sheet", DATA_SHEET.encode() + SEP + SHARED_STRINGS.encode())
    write("xlsx_xml", "plain", (PLAIN_SHEET + SEP.decode() + PLAIN_STRINGS + SEP.decode() +
                                SIMPLE_WORKBOOK + SEP.decode() + SIMPLE_RELS).encode())
    write("xlsx_xml", "two_sheets", (PLAIN_SHEET + SEP.decode() + PLAIN_STRINGS + SEP.decode() +
                                     WORKBOOK + SEP.decode() + WORKBOOK_RELS).encode())
    write("xlsx_xml", "sheet_only", OTHER_SHEET)
    write("xlsx_xml", "bad_refs", '<worksheet><sheetData><row r="0"><c r="A1"/></row>'
                                  '<row r="2"><c r="AAAA2"><v>1</v></c><c r="B2" t="s"><v>9</v></c>'
                                  "</row></sheetData></worksheet>")


def multipart_seeds():
    b = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\Users\\a\\一括.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n{csv_text(ROWS[:1])}\r\n--{b}--\r\n")
    write("multipart", "form_and_file", f"{b}\n{body}")
    body = ('preamble\r\n--"q b"\r\nContent-Disposition: form-data; name="f"; filename="a.csv"; '
            "filename*=UTF-8''%E4%B8%80%E6%8B%AC.csv\r\n content-type : text/plain\r\n\r\n"
            'x\r\n--"q b" \r\nContent-Disposition: form-data; name=files\r\n\r\n\r\n--"q b"--epilogue')
    write("multipart", "quoted_boundary", '"q b"; charset=utf-8\n' + body)
    body = ("--X\r\nContent-Disposition: form-data; name=\"a\\\"b\"; filename=\"..\"\r\n\r\n"
            "--X in data\r\n--Xnot\r\n--X\r\nContent-Disposition: attachment\r\n\r\nv\r\n--X--")
    write("multipart", "odd_parts", "X\n" + body)
    write("multipart", "no_end", "X\n--X\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue")
    write("multipart", "binary_file", b"B\n--B\r\nContent-Disposition: form-data; name=\"f\"; "
          b"filename=\"b.xlsx\"\r\n\r\nPK\x03\x04\x00\x00\r\n\r\n--B--\r\n")


def template_seeds():
    values = ('{"title":"<b>&\\"x\'</b>","n":3,"r":1.5,"t":true,"f":false,"z":null,'
              '"form":{"category":"nanbyo"},"errors":{"category":"必須です"},'
              '"error_list":[{"field":"name","label":"氏名","message":"<script>"}],'
              '"items":[{"name":"a"},{"name":"<b>"},"s",7]}')
    write("template", "each_if", "{{#each items}}{{@number}}:{{name}}{{.}}{{else}}none{{/each}}"
          "{{#if n == \"3\"}}three{{/if}}{{#unless f}}nf{{/unless}}{{! note }}{{title}}{{{title}}}"
          "{{r}}{{t}}{{z}}{{form.category}}" + SEP.decode() + "part {{title}}" + SEP.decode() + values)
    write("template", "include", "<p>{{> part}}</p>{{#each items}}{{> part}}{{/each}}" + SEP.decode() +
          "[{{@index}} {{name}}{{#if @index != \"0\"}},{{/if}}]" + SEP.decode() + values)
    write("template", "recursive", "{{#each items}}{{> part}}{{/each}}" + SEP.decode() +
          "{{> main}}" + SEP.decode() + values)
    write("template", "nested_loops", "{{#each a}}" * 4 + "<{{s}}{{@index}}" + "{{/each}}" * 4 +
          SEP.decode() + SEP.decode() + '{"a":[0,1,2,3,4,5,6,7,8,9],"s":"<>&\\"\'"}')
    write("template", "errors", "{{#if a}}{{else}}{{else}}{{/if}}{{/each}}{{#each x == \"1\"}}")
    write("template", "unclosed", "{{#if a}}{{#each b}}{{{c}}")
    for name in ("error_summary", "field_category"):
        with open(os.path.join(HERE, "..", "..", "templates", name + ".html"), encoding="utf-8") as f:
            write("template", name, f.read() + SEP.decode() + SEP.decode() + values)


def main():
    csv_seeds()
    xlsx_seeds()
    xlsx_xml_seeds()
    multipart_seeds()
    template_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
