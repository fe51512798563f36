#!/usr/bin/env python3
"""Fax benchmark: concurrent T.38 receptions, every document identical (issue 15, Speed).

Usage: bench/fax.py [--faxes 200] [--users 200] [--pages 3] [--keep] [--binary PATH] [--faxsend PATH]
(bench/fax.sh builds the release zentrale and the release faxsend first.)

The job: faxsend (examples/faxsend: spandsp's sending terminal behind a SIP UAC) calls a
user's fax extension from bert's softphone account (Digest-challenged INVITE), re-INVITEs to
T.38 right after the ACK and sends a 3-page chart (tests/fax/chart.sh) over UDPTL with
redundancy; zentrale answers, receives it with its own T.38 terminal, stores the TIFF, hangs
up. First one fax alone (the single reception's wall time), then --faxes at once, spread over
--users fax devices (a device receives several faxes at once when there are fewer users).

zentrale: release build, temp data dir, the SIP bounds raised as in bench/calls.py (every
faxsend sends from 127.0.0.1), [sip] rtp_ports 10000-20000. No [smtp] and the users have no
email: the documents stay in the inboxes (the spool is not what this measures).

Counted:
* faxes sent with T.30 success (faxsend's exit code and JSON), failed, their wall times;
* documents: every inbox entry's TIFF (API, format tiff) against the chart with `tiffcmp -t`;
* CPU: user+sys of zentrale over the batch, in cores while all receptions run, and of the
  faxsend processes (they share the 2 cores); RSS of zentrale idle and at the peak.

The peer: the issue's frame, spandsp runs a T.38 terminal pair at about 3,500 times real time
per core on this machine (src/fax/tests.rs prints its figure); the wall time of --faxes at once
against one alone says whether the T.30 handshake (real time) or the CPU bounds it.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provisioning import REPO, Http  # noqa: E402
from sipbench import BINARY, rss_kib, start_zentrale, stop, wait_sip  # noqa: E402
from voicemail import cpu_secs  # noqa: E402

FAXSEND = os.path.join(REPO, "target/release/examples/faxsend")
CHART = os.path.join(REPO, "tests/fax/chart.sh")
CONFIG = ("max_transactions = 2000000\nflood_rate = 10000000\nflood_burst = 10000000\n"
          'rtp_ports = "10000-20000"\n')
TSI = "+49 89 555 0100"


def setup(api, users):
    """`users` users u0… with a fax device each (extension 2000+i, format tiff); bert with a
    softphone, the senders' account. Returns (extensions, (sip user, password))."""
    extensions = []
    for i in range(users):
        ext = str(2000 + i)
        s, _, b = api.call("POST", "/api/v1/users", {"username": f"u{i}", "display_name": f"User {i}",
                                                    "auth": "none", "fax_extension": ext})
        assert s == 201, b
        s, _, b = api.call("PUT", f"/api/v1/users/u{i}/fax", {"extension": ext, "format": "tiff",
                                                              "header_id": f"+49 30 {ext}"})
        assert s == 200, b
        extensions.append(ext)
    s, _, b = api.call("POST", "/api/v1/users", {"username": "bert", "display_name": "Bert", "extension": "101",
                                                "auth": "none"})
    assert s == 201, b
    password = "bert-softphone-secret"
    s, _, b = api.call("POST", "/api/v1/devices", {"kind": "softphone", "user": "bert", "sip_password": password})
    assert s == 201, b
    return extensions, (json.loads(b)["sip_username"], password)


def send(args, port, acct, extensions, chart, count, work):
    """`count` faxsends at once, round robin over the extensions; returns their reports (each
    with its exit code and wall seconds) and the batch's wall seconds."""
    procs = []
    start = time.monotonic()
    for i in range(count):
        log = open(os.path.join(work, f"faxsend-{len(os.listdir(work))}-{i}.log"), "w")
        cmd = [args.faxsend, "--server", f"127.0.0.1:{port}", "--to", extensions[i % len(extensions)],
               "--user", acct[0], "--password", acct[1], "--file", chart, "--mode", "t38",
               "--ident", TSI, "--timeout", "600"]
        procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True), time.monotonic()))
    reports = []
    for proc, began in procs:
        out, _ = proc.communicate()
        lines = [l for l in out.splitlines() if l.startswith("{")]
        report = json.loads(lines[-1]) if lines else {"error": "no JSON line"}
        report["exit"], report["wall"] = proc.returncode, time.monotonic() - began
        reports.append(report)
    return reports, time.monotonic() - start


def watch(zpid, batch):
    """Runs `batch()` while sampling zentrale's CPU and RSS; returns (result, samples)."""
    import threading
    samples, done = [], threading.Event()

    def sample():
        while not done.is_set():
            try:
                samples.append((time.monotonic(), cpu_secs(zpid), rss_kib(zpid)["VmRSS"]))
            except OSError:
                return
            done.wait(0.5)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    result = batch()
    done.set()
    t.join()
    return result, samples


def documents(api, users, chart, work):
    """Every inbox entry's TIFF compared with the chart; returns (entries, identical, pages)."""
    entries = identical = pages = 0
    for i in range(users):
        s, _, b = api.call("GET", f"/api/v1/users/u{i}/fax/inbox")
        assert s == 200, b
        for fax in json.loads(b):
            entries += 1
            pages += fax.get("pages", 0)
            s, _, doc = api.call("GET", f"/api/v1/users/u{i}/fax/inbox/{fax['id']}/document")
            if s != 200:
                continue
            path = os.path.join(work, "received.tif")
            with open(path, "wb") as f:
                f.write(doc)
            same = subprocess.run(["tiffcmp", "-t", chart, path], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode == 0
            identical += same
    return entries, identical, pages


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--faxes", type=int, default=200, help="faxes at once")
    ap.add_argument("--users", type=int, default=200, help="fax devices they are spread over")
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--binary", default=BINARY, help="the zentrale to measure")
    ap.add_argument("--faxsend", default=FAXSEND, help="the faxsend to send with")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="zentrale-fax-bench-")
    proc = None
    try:
        chart = os.path.join(work, "chart.tif")
        subprocess.run([CHART, chart, str(args.pages)], check=True)
        proc, addrs = start_zentrale(work, args.binary, CONFIG)
        api = Http(addrs["HTTP"])
        extensions, acct = setup(api, args.users)
        wait_sip(addrs["SIP/UDP"], proc, os.devnull)
        logs = os.path.join(work, "faxsend")
        os.makedirs(logs)
        (single, single_wall), _ = watch(proc.pid, lambda: send(args, addrs["SIP/UDP"], acct, extensions[:1],
                                                                 chart, 1, logs))
        rss0, cpu0, kids0 = rss_kib(proc.pid)["VmRSS"], cpu_secs(proc.pid), children_cpu()
        (reports, wall), samples = watch(proc.pid, lambda: send(args, addrs["SIP/UDP"], acct, extensions,
                                                                  chart, args.faxes, logs))
        cpu, kids = cpu_secs(proc.pid) - cpu0, children_cpu() - kids0
        entries, identical, pages = documents(Http(addrs["HTTP"]), args.users, chart, work)
        report(args, single[0], single_wall, reports, wall, samples, (rss0, cpu, kids), (entries, identical, pages))
    finally:
        stop(proc)
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(args, single, single_wall, reports, wall, samples, usage, docs):
    rss0, cpu, kids = usage
    entries, identical, pages = docs
    ok = [r for r in reports if r["exit"] == 0]
    walls = sorted(r["wall"] for r in reports)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; faxsend --mode t38, "
          f"{args.pages}-page chart, {args.faxes} faxes at once over {args.users} fax devices")
    print(f"one fax alone: {single_wall:.1f} s wall ({single.get('completion_text')}, {single.get('pages')} pages, "
          f"{single.get('bit_rate')} bit/s, ecm {single.get('ecm')})")
    print(f"{args.faxes} at once: {wall:.1f} s wall for the batch ({wall / single_wall:.2f}x one alone); "
          f"per fax min {walls[0]:.1f} s, median {walls[len(walls) // 2]:.1f} s, max {walls[-1]:.1f} s")
    print(f"  T.30 succeeded {len(ok)}, failed {len(reports) - len(ok)}")
    for r in [r for r in reports if r["exit"] != 0][:5]:
        print(f"    failed: {r.get('completion_text')} ({r.get('error')})")
    print(f"documents in the inboxes: {entries} ({pages} pages), identical to the chart (tiffcmp -t): "
          f"{identical} (target {args.faxes + 1}: the single one's too)")
    peak_rss = max((s[2] for s in samples), default=rss0)
    if len(samples) >= 2:
        (t0, c0, _), (t1, c1, _) = samples[0], samples[-1]
        print(f"CPU: zentrale {cpu:.1f} s user+sys ({cpu / max(args.faxes, 1) * 1000:.0f} ms per fax, "
              f"{(c1 - c0) / (t1 - t0):.2f} cores over the batch); the faxsends {kids:.1f} s")
    print(f"RSS: zentrale {rss0} KiB before the batch, {peak_rss} KiB at the peak "
          f"({(peak_rss - rss0) * 1024 / max(args.faxes, 1):.0f} B per reception)")
    session = single_wall * args.faxes
    print(f"frame: {args.faxes} receptions are {session:.0f} s of T.30 session; spandsp runs a T.38 pair at "
          f"~3,500x real time per core, so the CPU floor is ~{session / 3500 / 2:.1f} s on 2 cores")


if __name__ == "__main__":
    main()
