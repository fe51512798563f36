#!/usr/bin/env python3
"""xlsx import benchmark: 10,000 users, rows per second and peak memory.

Usage: bench/import.sh [--users 10000] [--with-secrets 1000]   (run through bench/import.sh)

Writes the template with the release build, fills it with openpyxl (the users quick-create
fields: extension, email, voicemail=all, softphone, auth ldap), and prints from one run:
  * `zentrale import FILE` on an empty store: rows/s and the peak RSS of the importer and of
    its reading child (`zentrale import-read`, measured on its own with the same file);
  * a dry run on an empty store, and the same file imported a second time (nothing changes);
  * the same file through POST /api/v1/import into a running daemon, with the daemon's peak RSS;
  * users with password and PIN (two argon2id hashes each), which bounds that case;
and beside them two peers on the same file: openpyxl reading it (read-only mode), and the same
users created one by one through POST /api/v1/users (4 clients).
"""

import argparse
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import openpyxl

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "target/release/zentrale")
ROOT = ("root", "bench-password-1")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def config(dir):
    path = os.path.join(dir, "zentrale.toml")
    with open(path, "w") as f:
        f.write(f'[server]\ndata_dir = "{dir}/data"\n[http]\nlisten = "127.0.0.1:0"\n'
                'https_listen = "127.0.0.1:0"\n[tftp]\nlisten = "127.0.0.1:0"\n')
    return path


def fill(template, out, n, secrets):
    wb = openpyxl.load_workbook(template)
    ws = wb["Users"]
    for i in range(n):
        ws.append([f"user{i:05d}", f"User {i:05d}", str(10000 + i), "local" if secrets else "ldap",
                   f"password-{i:05d}" if secrets else None, f"{400000 + i}" if secrets else None,
                   None, f"user{i:05d}@example.com", "de", "all", "yes", None, None, None])
    wb.save(out)


def timed(args, stdin=None):
    """Runs args under GNU time; (seconds, peak RSS in MiB, stdout)."""
    with tempfile.NamedTemporaryFile("r") as t:
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
            t0 = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%M"] + args, stdin=inp,
                               capture_output=True)
            seconds = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {p.stderr.decode()[-2000:]}")
        return seconds, int(t.read().split()[-1]) / 1024, p.stdout


def cli_import(file, extra=()):
    with tempfile.TemporaryDirectory() as dir:
        cfg = config(dir)
        return timed([BINARY, "import", file, "--config", cfg, *extra])


def start_daemon(dir):
    cfg = config(dir)
    subprocess.run([BINARY, "admin", "create", "--username", ROOT[0], "--password", ROOT[1],
                    "--role", "system-admin", "--config", cfg], check=True, capture_output=True)
    proc = subprocess.Popen([BINARY, "serve", "--config", cfg], stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "listening for HTTP on " in line:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            host, port = line.split("listening for HTTP on ")[1].strip().rsplit(":", 1)
            return proc, host, int(port)
    raise SystemExit("zentrale did not start")


def headers(content_type):
    token = base64.b64encode(f"{ROOT[0]}:{ROOT[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": content_type}


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def api_import(file):
    with tempfile.TemporaryDirectory() as dir:
        proc, host, port = start_daemon(dir)
        try:
            idle = peak_mib(proc.pid)
            body = open(file, "rb").read()
            conn = http.client.HTTPConnection(host, port, timeout=600)
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/import", body=body, headers=headers(XLSX))
            resp = conn.getresponse()
            payload = resp.read()
            seconds = time.perf_counter() - t0
            if resp.status != 200:
                raise SystemExit(f"API import: {resp.status} {payload[:500]}")
            return seconds, idle, peak_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait()


def api_quick_create(n, threads=4):
    with tempfile.TemporaryDirectory() as dir:
        proc, host, port = start_daemon(dir)
        errors = []

        def work(ids):
            conn = http.client.HTTPConnection(host, port, timeout=120)
            for i in ids:
                body = {"username": f"user{i:05d}", "display_name": f"User {i:05d}",
                        "extension": str(10000 + i), "auth": "ldap", "email": f"user{i:05d}@example.com",
                        "voicemail": "all", "softphone": True}
                conn.request("POST", "/api/v1/users", body=json.dumps(body),
                             headers=headers("application/json"))
                resp = conn.getresponse()
                resp.read()
                if resp.status != 201:
                    errors.append(resp.status)

        try:
            t0 = time.perf_counter()
            workers = [threading.Thread(target=work, args=(range(k, n, threads),)) for k in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            seconds = time.perf_counter() - t0
            if errors:
                raise SystemExit(f"API quick-create: {len(errors)} errors, e.g. {errors[0]}")
            return seconds
        finally:
            proc.terminate()
            proc.wait()


def openpyxl_read(file):
    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(file, read_only=True)
    rows = sum(1 for _ in wb["Users"].iter_rows(min_row=2, values_only=True))
    return time.perf_counter() - t0, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--with-secrets", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        template = os.path.join(work, "template.xlsx")
        subprocess.run([BINARY, "import", "--template", template, "--config",
                        config(work)], check=True, capture_output=True)
        users = os.path.join(work, "users.xlsx")
        fill(template, users, a.users, False)
        secret = os.path.join(work, "secrets.xlsx")
        fill(template, secret, a.with_secrets, True)
        n = a.users
        size = os.path.getsize(users) / 1024
        print(f"file: {n} users, {size:.0f} KiB; machine: {os.cpu_count()} cores")
        rate = lambda rows, s: f"{rows / s:,.0f} rows/s ({s:.2f} s)"

        s, rss, _ = cli_import(users)
        _, child_rss, _ = timed([BINARY, "import-read"], stdin=users)
        print(f"zentrale import, empty store:   {rate(n, s)}; peak RSS importer {rss:.0f} MiB, reader child {child_rss:.0f} MiB")
        s, _, _ = cli_import(users, ["--dry-run"])
        print(f"zentrale import --dry-run:      {rate(n, s)}")
        with tempfile.TemporaryDirectory() as dir:
            cfg = config(dir)
            timed([BINARY, "import", users, "--config", cfg])
            s, rss, _ = timed([BINARY, "import", users, "--config", cfg])
            print(f"zentrale import, same again:    {rate(n, s)}; peak RSS {rss:.0f} MiB (nothing changes)")
        s, idle, peak = api_import(users)
        print(f"POST /api/v1/import:            {rate(n, s)}; daemon peak RSS {idle:.0f} MiB idle, {peak:.0f} MiB after")
        s, rss, _ = cli_import(secret)
        print(f"zentrale import, {a.with_secrets} users with password + PIN: {rate(a.with_secrets, s)} (two argon2id hashes a row); peak RSS {rss:.0f} MiB")

        s, rows = openpyxl_read(users)
        print(f"peer: openpyxl reading the file: {rate(rows, s)}")
        m = min(n, 2000)
        s = api_quick_create(m)
        print(f"peer: POST /api/v1/users one by one, 4 clients, {m} users: {rate(m, s)}")


if __name__ == "__main__":
    main()
