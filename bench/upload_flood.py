"""Issue 14, finding 3: the server's resident memory while 40 anonymous clients each announce a
30 MB upload to /inst-users/import and send 28 MB of it. Before the request gate every body was
read into memory (+818 MiB measured); now an unauthorised upload is answered before its body.

Usage: python3 bench/upload_flood.py [BINARY] [PORT]   (defaults: ./nsdb, 18301)
"""
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CLIENTS = 40
MB = 1024 * 1024


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def attack(port, head):
    chunk = b"x" * MB
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(head)
        for _ in range(28):
            s.sendall(chunk)
        time.sleep(3)
        s.close()
    except OSError:
        pass  # answered and closed: what the gate does


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "./nsdb"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 18301
    data = tempfile.mkdtemp(prefix="nsdb-flood-")
    server = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:%d" % port,
                               "--threads", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        before = rss_mib(server.pid)
        head = ("POST /inst-users/import HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n"
                % (30 * MB)).encode()
        threads = [threading.Thread(target=attack, args=(port, head)) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        peak = before
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mib(server.pid))
            time.sleep(0.05)
        t0 = time.monotonic()
        status = urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=10).status
        print("%s: RSS %d MiB before, %d MiB peak during %d half-sent anonymous 28 MB uploads "
              "(+%d MiB); /healthz %d in %.3f s"
              % (binary, before, peak, CLIENTS, peak - before, status, time.monotonic() - t0))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
