#!/usr/bin/python3
"""The tracker's CPU per announce over https vs plain http, alternated.

  benches/tls_cost.py [BINARY] [--requests N] [--rounds R] [--port-base P]

Starts BINARY (default target/release/octotracker) with a plain and a TLS listener on
127.0.0.1 (ports P and P+1, default 13610/13611) and a throwaway self-signed P-256 certificate
(Debian's openssl CLI), then, R times (default 3), alternately:
  - keep-alive: N announces (default 20000) on one connection, plain then TLS;
  - a connection per announce: N/10 announces, each on a new connection (for TLS, a full
    TLS 1.3 handshake: no session resumption), plain then TLS;
  - the same over TLS with the session of the previous connection resumed (as clients that
    keep TLS sessions do).
The figure is the server's CPU time (every thread's on-CPU nanoseconds, /proc/PID/task/*/schedstat)
over the run, divided by the number of announces: the client's own cost (Python) is not in it.
Only 127.0.0.1 is ever contacted.
"""
import glob
import http.client
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time


def server_cpu_ns(pid):
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended between glob and open
    return total


def target(i):
    peer = f"-PY0001-{i % 1000000:012d}"
    return (
        "/announce?info_hash=" + "%5a" * 20 + f"&peer_id={peer}&port={6000 + i % 1000}"
        "&uploaded=0&downloaded=0&left=1&numwant=50"
    )


def keep_alive(make, n):
    conn = make()
    for i in range(n):
        conn.request("GET", target(i))
        r = conn.getresponse()
        body = r.read()
        if r.status != 200 or b"failure" in body:
            raise SystemExit(f"bad reply: {r.status} {body[:80]!r}")
    conn.close()


def per_connection(make, n):
    for i in range(n):
        conn = make()
        conn.request("GET", target(i), headers={"connection": "close"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"bad reply: {r.status}")
        conn.close()


def resumed(port, context, n):
    """n announces, each on a new TLS connection resuming the previous one's session."""
    session = None
    resumed_count = 0
    for i in range(n):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        tls = context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
        request = f"GET {target(i)} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
        tls.sendall(request.encode())
        reply = b""
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                break
            reply += chunk
        if not reply.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"bad reply: {reply[:80]!r}")
        resumed_count += tls.session_reused
        session = tls.session
        tls.close()
    if resumed_count < n - 1:
        raise SystemExit(f"only {resumed_count} of {n} connections resumed their session")


def wait_listening(port):
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def main():
    args = sys.argv[1:]
    binary, requests, rounds, base = "target/release/octotracker", 20000, 3, 13610
    while args:
        a = args.pop(0)
        if a == "--requests":
            requests = int(args.pop(0))
        elif a == "--rounds":
            rounds = int(args.pop(0))
        elif a == "--port-base":
            base = int(args.pop(0))
        else:
            binary = a
    tmp = tempfile.mkdtemp(prefix="octotracker-tls-cost-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    server = subprocess.Popen(
        [binary, "--http", f"127.0.0.1:{base}", "--https", f"127.0.0.1:{base + 1}",
         "--tls-cert", cert, "--tls-key", key, "--log", "warn"],
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_listening(base)
        wait_listening(base + 1)
        context = ssl.create_default_context(cafile=cert)
        plain = lambda: http.client.HTTPConnection("127.0.0.1", base, timeout=10)  # noqa: E731
        tls = lambda: http.client.HTTPSConnection("127.0.0.1", base + 1, context=context, timeout=10)  # noqa: E731
        results = {}
        runs = [("keep-alive", keep_alive, requests), ("connection per announce", per_connection, requests // 10)]
        # One warm-up of each, then alternate.
        for _, run, n in runs:
            run(plain, n // 10)
            run(tls, n // 10)
        for r in range(rounds):
            for name, run, n in runs:
                for label, make in (("http", plain), ("https", tls)):
                    before = server_cpu_ns(server.pid)
                    start = time.time()
                    run(make, n)
                    took = time.time() - start
                    cpu = server_cpu_ns(server.pid) - before
                    per = cpu / n / 1000
                    results.setdefault((name, label), []).append(per)
                    print(f"round {r + 1} {name:24} {label:5}: {n} announces, server {per:6.1f} µs CPU each, "
                          f"client-side {n / took:7.0f}/s", flush=True)
        for r in range(rounds):
            n = requests // 10
            before = server_cpu_ns(server.pid)
            resumed(base + 1, context, n)
            per = (server_cpu_ns(server.pid) - before) / n / 1000
            results.setdefault(("resumed", "https"), []).append(per)
            print(f"round {r + 1} connection per announce, resumed https: {n} announces, server {per:6.1f} µs CPU each",
                  flush=True)
        print()
        resumed_med = statistics.median(results[("resumed", "https")])
        print(f"connection per announce, https with a resumed session: {resumed_med:6.1f} µs per announce "
              f"(median of {rounds})")
        for name, _, n in runs:
            http_med = statistics.median(results[(name, "http")])
            https_med = statistics.median(results[(name, "https")])
            print(f"{name:24}: http {http_med:6.1f} µs, https {https_med:6.1f} µs per announce "
                  f"(medians of {rounds}): {https_med / http_med:.2f}x, +{https_med - http_med:.1f} µs")
    finally:
        server.terminate()
        server.wait(timeout=20)
        for f in (cert, key):
            os.remove(f)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
