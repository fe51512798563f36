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

sipp runs with -buff_size BUFF_SIZE (4 MiB; the kernel caps it at net.core.rmem_max): with its
default (64 KiB) a burst of 200 answers overflows sipp's own socket, and each answer lost there
stalls that registration for sipp's 500 ms retransmission, whichever server answered. Measured
from a capture of both runs: 0.7-0.8% of all answers, to zentrale and Kamailio alike, were lost
at sipp, and those stalls, not the servers, set the pace.
"""

import argparse
import os
import re
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provisioning import REPO, UA, Http, free_port  # noqa: E402
from sipbench import (BINARY, kamailio_db, rss_kib, run_sipp, start_kamailio, start_zentrale,  # noqa: E402
                      stop, wait_sip, write_inf)

SIP = os.path.join(REPO, "bench", "sip")
MAX_TRANSACTIONS = 2_000_000
BUFF_SIZE = 4 * 1024 * 1024


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


def sipp(work, scenario, port, inf, calls, concurrency, local, transport="u1"):
    """Runs `calls` sipp calls of `scenario` from 127.0.0.1:local against 127.0.0.1:port;
    returns (ok, failed, secs)."""
    return run_sipp(work, os.path.join(SIP, f"{scenario}.xml"), port, local,
                    ["-inf", inf, "-m", str(calls), "-l", str(concurrency), "-r", "1000000", "-rp", "1000", "-buff_size", str(BUFF_SIZE),
                     "-timeout", "300s", "-recv_timeout", "10000"], transport)


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
    ap.add_argument("--binary", default=BINARY,
                    help="the zentrale to measure (e.g. an older build, to compare)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="zentrale-sip-bench-")
    zentrale = kamailio = None
    try:
        zentrale, addrs = start_zentrale(work, args.binary,
                                         f"max_transactions = {MAX_TRANSACTIONS}\n"
                                         "flood_rate = 10000000\nflood_burst = 10000000\n")
        zport = addrs["SIP/UDP"]
        t = time.monotonic()
        accts = accounts(addrs["HTTP"], args.devices)
        print(f"{len(accts)} devices created and enrolled in {time.monotonic() - t:.1f} s")
        inf = os.path.join(work, "accounts.csv")
        write_inf(inf, accts)
        kamailio, kport = start_kamailio(work, os.path.join(SIP, "kamailio.cfg"), kamailio_db(work, accts),
                                         args.children)
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
            stop(proc)
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
