#!/usr/bin/env python3
"""smtp_sink.py — a loopback SMTP server for tests (aiosmtpd, Debian's python3-aiosmtpd).

    python3 tests/unit/smtp_sink.py PORT OUTDIR [--refuse ADDR]... [--tempfail ADDR]...

Listens on 127.0.0.1:PORT. Each accepted message is written as OUTDIR/msg-NNNN.eml (the DATA
exactly as received) and then OUTDIR/msg-NNNN.json ({"mail_from": ..., "rcpt_tos": [...]}),
the JSON renamed into place last so that its presence means the message is complete.
OUTDIR/.ready appears (holding the port) once the server answers. RCPT TO an address given with
--refuse is answered 550, one given with --tempfail 451. Exits on SIGTERM or SIGINT, and by
itself when its parent process goes away, so that a crashed test leaves no server behind.
"""
import argparse
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class SinkHandler:
    def __init__(self, outdir, refuse, tempfail):
        self.outdir = outdir
        self.refuse = {a.lower() for a in refuse}
        self.tempfail = {a.lower() for a in tempfail}
        self.lock = threading.Lock()
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address.lower() in self.tempfail:
            return "451 4.3.0 <%s>: Temporary failure, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            base = os.path.join(self.outdir, "msg-%04d" % self.count)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        with open(base + ".eml", "wb") as f:
            f.write(content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 OK: queued"


def main():
    parser = argparse.ArgumentParser(description="loopback SMTP sink for tests")
    parser.add_argument("port", type=int)
    parser.add_argument("outdir")
    parser.add_argument("--refuse", action="append", default=[], metavar="ADDR")
    parser.add_argument("--tempfail", action="append", default=[], metavar="ADDR")
    args = parser.parse_args()

    os.makedirs(args.outdir, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()

    handler = SinkHandler(args.outdir, args.refuse, args.tempfail)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port)
    controller.start()
    ready = os.path.join(args.outdir, ".ready")
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % args.port)
    os.rename(ready + ".tmp", ready)
    print("smtp_sink: listening on 127.0.0.1:%d" % args.port, flush=True)
    while not stop.wait(0.2):
        if os.getppid() != parent:
            break
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
