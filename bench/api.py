#!/usr/bin/env python3
"""Admin API benchmark: create users through the API, list and fetch them, and read RSS.

Usage: bench/api.py [--users 10000] [--with-secrets 200] [--threads 4]

Starts the release build of zentrale on a free port in a temporary data directory and prints:
  * users created per second (quick-create with extension, voicemail=all, softphone: every
    user writes the user, a number, a voicemail box, a phonebook entry, two actions, a device
    with FollowMe), and separately for users with password and PIN (two argon2 hashes each);
  * the time of one GET /api/v1/users listing all of them;
  * p50/p99/max of GET /api/v1/users/{username} over every user (one keep-alive connection);
  * the daemon's RSS idle (after start) and after the run.
Only the standard library is used; the figures are wall-clock on this machine.
"""

import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = ("root", "bench-password-1")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Api:
    def __init__(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=120)
        token = base64.b64encode(f"{ROOT[0]}:{ROOT[1]}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, payload


def start(binary, data):
    config = os.path.join(data, "zentrale.toml")
    with open(config, "w") as f:
        f.write(f'[server]\ndata_dir = "{data}/data"\n[http]\nlisten = "127.0.0.1:0"\nhttps_listen = "127.0.0.1:0"\n[tftp]\nlisten = "127.0.0.1:0"\n')
    subprocess.run([binary, "admin", "create", "--username", ROOT[0], "--password", ROOT[1],
                    "--role", "system-admin", "--config", config], check=True, capture_output=True)
    proc = subprocess.Popen([binary, "serve", "--config", config], stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "listening for HTTP on " in line:
            addr = line.split("listening for HTTP on ")[1].strip()
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            host, port = addr.rsplit(":", 1)
            return proc, host, int(port)
    raise SystemExit("zentrale did not start")


def create_users(host, port, names, make_body, threads):
    chunks = [names[i::threads] for i in range(threads)]
    errors = []

    def work(chunk):
        api = Api(host, port)
        for name in chunk:
            status, payload = api.call("POST", "/api/v1/users", make_body(name))
            if status != 201:
                errors.append((name, status, payload[:200]))

    t0 = time.perf_counter()
    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"{len(errors)} creates failed, first: {errors[0]}")
    return len(names) / elapsed


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--with-secrets", type=int, default=200)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    binary = os.path.join(REPO, "target", "release", "zentrale")
    with tempfile.TemporaryDirectory() as data:
        proc, host, port = start(binary, data)
        try:
            time.sleep(1)
            idle = rss_kib(proc.pid)
            Api(host, port).call("GET", "/api/v1/me")  # one verified login: a hashing worker's memory
            login = rss_kib(proc.pid)
            names = [f"user{i:05d}" for i in range(args.users)]
            plain = create_users(host, port, names, lambda n: {
                "username": n, "display_name": f"User {n}", "extension": str(100000 + int(n[4:])),
                "auth": "none", "voicemail": "all", "softphone": True}, args.threads)
            secret_names = [f"sec{i:05d}" for i in range(args.with_secrets)]
            secrets = create_users(host, port, secret_names, lambda n: {
                "username": n, "display_name": f"User {n}", "password": "password-1234",
                "pin": "4711"}, args.threads) if secret_names else 0.0
            api = Api(host, port)
            t0 = time.perf_counter()
            status, payload = api.call("GET", "/api/v1/users")
            list_ms = (time.perf_counter() - t0) * 1000
            assert status == 200 and len(json.loads(payload)) == args.users + args.with_secrets
            latencies = []
            for name in names:
                t0 = time.perf_counter()
                status, _ = api.call("GET", f"/api/v1/users/{name}")
                latencies.append((time.perf_counter() - t0) * 1000)
                assert status == 200
            latencies.sort()
            after = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
    print(f"users created/s (quick-create, no secrets, {args.threads} clients): {plain:9.0f}")
    print(f"users created/s (with password + PIN, argon2id x2):        {secrets:9.1f}")
    print(f"GET /api/v1/users with {args.users + args.with_secrets} users:                  {list_ms:9.1f} ms")
    print(f"GET /api/v1/users/{{username}} p50 / p99 / max:          "
          f"{percentile(latencies, 0.50):.3f} / {percentile(latencies, 0.99):.3f} / {latencies[-1]:.3f} ms")
    print(f"RSS idle / after one login / after the run:              "
          f"{idle / 1024:.1f} MB / {login / 1024:.1f} MB / {after / 1024:.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
