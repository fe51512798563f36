#!/usr/bin/env python3
"""SIP registrar benchmark: zentrale next to Kamailio 5.6, same accounts, same sipp, same run.

Usage: bench/sip.py [--devices 2000] [--registrations 20000] [--options 40000]
                    [--concurrency 200] [--rounds 3] [--children N] [--keep] [--binary PATH]
(bench/sip.sh installs sipp and Kamailio and builds the release binary first.)

1. Starts the release build on port 0 in a temporary data directory, creates --devices users
   each with a Yealink phone through the API, and fetches each phone's config in its
   enrollment window: the SIP account (user name, password) is read from there, as a phone
   would. The same accounts go into Kamailio's subscriber table (db_text).
2. Memory: zentrale's RSS before and after a first pass in which each device registers once,
   over TCP (Timer J is zero there, so no transaction lingers), the difference divided by the
   devices: the binding in the registrar, the phone status and the store's write-behind.
3. REGISTER: sipp (bench/sip/register.xml) registers the devices round-robin from the -inf
   file, each with its own [authentication] (REGISTER, 401, REGISTER with Digest, 200),
   --concurrency registrations in flight, --registrations in all. Registrations/s = successful
   registrations / sipp's wall time. Then the same against Kamailio (bench/sip/kamailio.cfg).
4. OPTIONS: the same with bench/sip/options.xml (OPTIONS, 200).
Each round measures zentrale then Kamailio; the best round of each is printed, with the ratio.
sipp sends from one fixed port, so every registration after the first refreshes a binding.

zentrale runs with [sip] max_transactions raised to MAX_TRANSACTIONS: a non-INVITE server
transaction over UDP lingers 32 s (Timer J), so a sustained R registrations/s holds 64·R
transactions (two per registration); the default bound sheds a sustained run well below what
is measured here with 503 (flood protection, not throughput). Likewise flood_rate and
flood_burst: sipp sends everything from one address, which the per-source flood gate (200
packets/s by default) would shed as the attack it looks like.
"""

import argparse
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provisioning import REPO, ROOT, UA, Http, free_port, rss_kib  # noqa: E402

DOMAIN = "bench.zentrale.test"
SIP = os.path.join(REPO, "bench", "sip")
KAMAILIO_DBTEXT = "/usr/share/kamailio/dbtext/kamailio"
MAX_TRANSACTIONS = 2_000_000


def start_zentrale(work, binary):
    config = os.path.join(work, "zentrale.toml")
    with open(config, "w") as f:
        f.write(f'[server]\ndata_dir = "{work}/data"\npublic_host = "{DOMAIN}"\n'
                f'[http]\nlisten = "127.0.0.1:0"\nhttps_listen = ""\n'
                f'[tftp]\nlisten = "127.0.0.1:0"\n'
                f'[sip]\nlisten = "127.0.0.1:0"\ndomain = "{DOMAIN}"\nmax_transactions = {MAX_TRANSACTIONS}\n'
                f'flood_rate = 10000000\nflood_burst = 10000000\n')
    subprocess.run([binary, "admin", "create", "--username", ROOT[0], "--password", ROOT[1],
                    "--role", "system-admin", "--config", config], check=True, capture_output=True)
    proc = subprocess.Popen([binary, "serve", "--config", config], stderr=subprocess.PIPE, text=True)
    addrs = {}
    for line in proc.stderr:
        m = re.search(r"listening for ([\w/]+) on ([0-9.]+):(\d+)", line)
        if m:
            addrs[m.group(1)] = int(m.group(3))
            if m.group(1) == "HTTP":
                break
    if "HTTP" not in addrs or "SIP/UDP" not in addrs:
        sys.exit(f"zentrale did not start: {addrs}")
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, addrs


def accounts(http_port, count):
    """Creates `count` users with a phone each; returns [(sip user, password)] read from
    each phone's provisioning file."""
    api = Http(http_port)
    found = []
    for i in range(count):
        mac = f"001565{i:06x}"
        s, _, b = api.call("POST", "/api/v1/users", {"username": f"u{i}", "display_name": f"User {i}",
                                                    "extension": str(1000 + i), "auth": "none"})
        assert s == 201, b
        s, _, b = api.call("POST", "/api/v1/devices", {"kind": "ip-phone", "mac": mac, "vendor": "yealink",
                                                      "model": "T54W", "user": f"u{i}"})
        assert s == 201, b
        s, _, body = api.call("GET", f"/prov/{mac}.cfg", headers={"User-Agent": UA})
        assert s == 200, (s, body)
        keys = dict(re.findall(r"^(account\.1\.\w+) = (.*)$", body.decode(), re.M))
        user, password = keys["account.1.auth_name"], keys["account.1.password"]
        assert keys["account.1.user_name"] == user, "the bench registers as the auth name"
        assert re.fullmatch(r"[A-Za-z0-9_.+-]+", user + password), "no escaping for sipp/db_text"
        found.append((user, password))
    return found


def write_inf(path, accts):
    """sipp's -inf file. Quoted: sipp decodes an unquoted value that starts with 0x as hex
    (and generated names may well start with 0x)."""
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for user, pw in accts:
            f.write(f"{user};[authentication username=\"{user}\" password=\"{pw}\"];{DOMAIN}\n")


def start_kamailio(work, accts, children):
    """Kamailio on a free UDP port with the accounts in db_text; returns (proc, port)."""
    db = os.path.join(work, "kamailio-db")
    os.makedirs(db)
    # The table headers (column definitions) and table versions as the package ships them.
    for table in ("version", "subscriber", "location", "location_attrs"):
        src = os.path.join(KAMAILIO_DBTEXT, table)
        if table == "version":
            with open(src) as f:
                lines = f.readlines()
            with open(os.path.join(db, table), "w") as f:
                f.write(lines[0])
                f.writelines(l for l in lines[1:] if l.split(":")[1] in ("subscriber", "location", "location_attrs"))
        else:
            shutil.copy(src, os.path.join(db, table))
    with open(os.path.join(db, "subscriber"), "a") as f:
        for i, (user, pw) in enumerate(accts, 1):
            f.write(f"{i}:{user}:{DOMAIN}:{pw}:-:-\n")
    port = free_port(socket.SOCK_DGRAM)
    log = open(os.path.join(work, "kamailio.log"), "w")
    proc = subprocess.Popen(["kamailio", "-f", os.path.join(SIP, "kamailio.cfg"), "-DD", "-E",
                             "-l", f"udp:127.0.0.1:{port}", "-n", str(children),
                             "-A", f'DBURL="text://{db}"', "-w", work,
                             "-P", os.path.join(work, "kamailio.pid"), "-m", "256", "-M", "16"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_sip(port, proc, os.path.join(work, "kamailio.log"))
    return proc, port


def wait_sip(port, proc, log):
    """Waits until `port` answers an OPTIONS (the peer is up), without sleeping blind."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        local = s.getsockname()[1]
        for attempt in range(100):
            if proc.poll() is not None:
                sys.exit(f"the peer on port {port} exited:\n" + open(log).read()[-3000:])
            ping = (f"OPTIONS sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKw{attempt}\r\n"
                    f"Max-Forwards: 70\r\nFrom: <sip:bench@{DOMAIN}>;tag=w\r\nTo: <sip:{DOMAIN}>\r\n"
                    f"Call-ID: wait{attempt}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
            s.sendto(ping.encode(), ("127.0.0.1", port))
            try:
                if s.recv(65535).startswith(b"SIP/2.0 200"):
                    return
            except socket.timeout:
                continue
    sys.exit(f"the peer on port {port} never answered OPTIONS")


def sipp(work, scenario, port, inf, calls, concurrency, local, transport="u1"):
    """Runs `calls` sipp calls of `scenario` from 127.0.0.1:local against 127.0.0.1:port;
    returns (ok, failed, secs)."""
    tag = f"{scenario}-{port}-{time.monotonic_ns()}"
    stats = os.path.join(work, f"{tag}.csv")
    cmd = ["sipp", "-sf", os.path.join(SIP, f"{scenario}.xml"), "-inf", inf,
           "-i", "127.0.0.1", "-p", str(local), "-t", transport,
           "-m", str(calls), "-l", str(concurrency), "-r", "1000000", "-rp", "1000",
           "-timeout", "300s", "-recv_timeout", "10000", "-nostdin",
           "-trace_stat", "-stf", stats, "-fd", "3600", "-trace_err",
           "-error_file", os.path.join(work, f"{tag}-errors.log"),
           f"127.0.0.1:{port}"]
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    secs = time.monotonic() - start
    with open(stats) as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    if not rows:
        sys.exit(f"sipp wrote no statistics (exit {done.returncode}): {done.stderr[-2000:]}")
    last = rows[-1]
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]), secs


def rate(result):
    ok, failed, secs = result
    return ok / secs, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--registrations", type=int, default=20000)
    ap.add_argument("--options", type=int, default=40000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--children", type=int, default=os.cpu_count(),
                    help="Kamailio UDP worker processes (default: the number of cores)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--binary", default=os.path.join(REPO, "target/release/zentrale"),
                    help="the zentrale to measure (e.g. an older build, to compare)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="zentrale-sip-bench-")
    zentrale = kamailio = None
    try:
        zentrale, addrs = start_zentrale(work, args.binary)
        zport = addrs["SIP/UDP"]
        t = time.monotonic()
        accts = accounts(addrs["HTTP"], args.devices)
        print(f"{len(accts)} devices created and enrolled in {time.monotonic() - t:.1f} s")
        inf = os.path.join(work, "accounts.csv")
        write_inf(inf, accts)
        kamailio, kport = start_kamailio(work, accts, args.children)
        wait_sip(zport, zentrale, os.devnull)

        local = free_port(socket.SOCK_DGRAM)
        before = rss_kib(zentrale.pid)["VmRSS"]
        first = sipp(work, "register", zport, inf, args.devices, 50, free_port(), "t1")
        after = rss_kib(zentrale.pid)["VmRSS"]
        if first[1]:
            sys.exit(f"first registration pass: {first[1]} failed (see {work}, --keep)")
        print(f"zentrale RSS {before} KiB before, {after} KiB after {args.devices} bindings: "
              f"{(after - before) * 1024 / args.devices:.0f} bytes per binding")
        sipp(work, "register", zport, inf, args.devices, 50, local)
        sipp(work, "register", kport, inf, args.devices, 50, local)

        best = {}
        for r in range(1, args.rounds + 1):
            for what, scenario, calls in (("REGISTER", "register", args.registrations),
                                          ("OPTIONS", "options", args.options)):
                for peer, port in (("zentrale", zport), ("kamailio", kport)):
                    per_sec, failed = rate(sipp(work, scenario, port, inf, calls, args.concurrency, local))
                    print(f"round {r}: {what:8} {peer:8} {per_sec:9.0f}/s  ({failed} failed)")
                    key = (what, peer)
                    best[key] = max(best.get(key, (0, 0)), (per_sec, failed))
        peak = rss_kib(zentrale.pid)
        print(f"zentrale RSS at the end {peak['VmRSS']} KiB (peak {peak['VmHWM']} KiB)")
        print()
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; Kamailio with "
              f"{args.children} UDP workers; {args.devices} devices, {args.concurrency} in flight; "
              f"zentrale max_transactions {MAX_TRANSACTIONS}")
        print(f"{'':28} {'zentrale':>10} {'Kamailio':>10} {'ratio':>7}")
        for what, label in (("REGISTER", "REGISTER with Digest /s"), ("OPTIONS", "OPTIONS /s")):
            (z, zf), (k, kf) = best[(what, "zentrale")], best[(what, "kamailio")]
            fails = f"  failed: {zf} / {kf}" if zf or kf else ""
            print(f"{label:28} {z:10.0f} {k:10.0f} {z / k:6.2f}x{fails}")
        print(f"{'memory per binding':28} {(after - before) * 1024 / args.devices:9.0f}B")
    finally:
        for proc in (zentrale, kamailio):
            if proc and proc.poll() is None:
                if proc is kamailio:
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.terminate()
                proc.wait(timeout=30)
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
