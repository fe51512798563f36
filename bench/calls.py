#!/usr/bin/env python3
"""Call benchmark: zentrale dispatching calls next to Kamailio 5.6 forking them, same sipp, same run.

Usage: bench/calls.py [--seconds 10] [--start 50] [--bisect 3] [--held 2500] [--held-rate 50]
                      [--children N] [--keep] [--binary PATH]
(bench/calls.sh installs sipp and Kamailio and builds the release binary first.)

The job (issue 12): a caller (sipp UAC, bench/calls/call_uac.xml) calls extension 101; its
INVITE is Digest-challenged (401, INVITE again with Authorization); the callee has two
registered phones (two sipp UAS, each on its own port): one answers after 100 ms
(answer_uas.xml), the other only rings (ring_uas.xml) and gets the CANCEL (200, 487, ACK);
the caller ACKs the 200 and hangs up with BYE after the hold time.

* zentrale (release build, temp data dir): user anna (100) with a softphone calls user bert
  (101) who has two softphones, FollowMe internal wait 0 s / ring 30 s each; each phone
  registers with its own account, as real devices do. As a B2BUA it answers the caller's leg
  itself and places one INVITE per phone.
* Kamailio (bench/calls/kamailio.cfg): registrar + tm; both phones register to the address of
  record 101 with Digest (one account, 101), the caller's INVITE is challenged the same way
  (www_challenge: 401, so one scenario serves both), then lookup + t_relay fork it to both
  contacts, Record-Route keeping ACK and BYE on the proxy. A proxy does half the transactions
  of a B2BUA: the issue's target is zentrale >= 0.5x Kamailio's rate.

1. Held calls and memory: --held-rate calls a second, each held --held / --held-rate seconds,
   --held calls in all: at the peak about --held calls are up at once. Prints the peak of
   concurrent calls (sipp's CurrentCall), failures, the memory growth from before to the peak
   divided by the calls up, and the memory per active call as the slope of memory over calls
   up once the set-up transactions of earlier calls end as fast as new ones come (see
   held()). Memory: zentrale's RSS; Kamailio's PSS summed over its processes (its workers
   share memory). Measured first, before any other call grew the heap.
2. Call attempts per second: fixed-rate steps of --seconds each, calls held 1 s. A step passes
   when no call failed and the calls completed at >= 90% of the offered rate (completed calls
   / (wall time - hold)); the rate grows by half until a step fails, then --bisect steps
   narrow it down. Prints the highest passing rate and what was achieved there.
Between steps the run waits (up to 30 s) until both phones have no call left.

zentrale runs with [sip] max_transactions and flood_rate/flood_burst raised, as in
bench/sip.py (sipp sends everything from one address; lingering transactions of a sustained
rate exceed the default bound, which is flood protection, not throughput).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provisioning import REPO, Http, free_port  # noqa: E402
from sipbench import (BINARY, kamailio_db, pss_kib, rss_kib, run_sipp, sipp_cmd, start_kamailio,  # noqa: E402
                      start_zentrale, stats_rows, stop, wait_sip, write_inf)

CALLS = os.path.join(REPO, "bench", "calls")
REGISTER = os.path.join(REPO, "bench", "sip", "register.xml")
CALLEE = "101"
HOLD_MS = 1000
# Seconds after which the transactions of earlier calls' set-ups end as fast as new ones come.
LINGER = 35
SIP_LIMITS = "max_transactions = 2000000\nflood_rate = 10000000\nflood_burst = 10000000\n"


class Peer:
    """One system under test: its SIP port, the caller's -inf file, its phones (sipp UAS
    processes and their statistics) and how to read its memory."""

    def __init__(self, name, port, work, caller, phones, memory, patience):
        self.name, self.port, self.work, self.memory, self.patience = name, port, work, memory, patience
        self.inf = os.path.join(work, f"{name}-caller.csv")
        write_inf(self.inf, [caller])
        self.local = free_port(socket.SOCK_DGRAM)
        self.phones = [start_phone(work, port, acct, scenario, patience)
                       for acct, scenario in zip(phones, ("answer_uas", "ring_uas"))]

    def call_args(self, rate, calls, hold_ms):
        return ["-inf", self.inf, "-key", "callee", CALLEE, "-r", str(rate), "-rp", "1000",
                "-m", str(calls), "-l", "19000", "-d", str(hold_ms),
                "-timeout", f"{calls // rate + hold_ms // 1000 + 60}s", "-recv_timeout", "10000"]

    def idle(self):
        """Waits until neither phone has a call left: a failed step may leave some that end
        only when the phone gives up on them (its patience), and the next step would share
        the phones with them."""
        for _ in range(2 * (self.patience + 5)):
            if all(current(stats) == 0 for _, stats in self.phones):
                return
            time.sleep(0.5)
        print(f"  ({self.name}: the phones still had calls after {self.patience + 5} s)")

    def stop(self):
        for proc, _ in self.phones:
            proc.terminate()
            proc.wait(timeout=30)


def current(stats):
    rows = stats_rows(stats)
    return int(rows[-1]["CurrentCall"]) if rows else 0


def start_phone(work, port, acct, scenario, patience):
    """A sipp phone: registers `acct` from a port of its own, then runs `scenario` (a UAS)
    there until stopped, waiting up to `patience` seconds for a call's next message (longer
    than a call is held: the BYE comes after that); returns (proc, its statistics file)."""
    local = free_port(socket.SOCK_DGRAM)
    inf = os.path.join(work, f"phone-{local}.csv")
    write_inf(inf, [acct])
    ok, failed, _ = run_sipp(work, REGISTER, port, local, ["-inf", inf, "-m", "1", "-recv_timeout", "5000"])
    if ok != 1:
        sys.exit(f"the phone {acct[0]} did not register on port {port} (see the work dir, --keep)")
    cmd, stats = sipp_cmd(work, os.path.join(CALLS, f"{scenario}.xml"), port, local,
                          ["-inf", inf, "-recv_timeout", str(patience * 1000)])
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, stats


def zentrale_peer(work, binary, patience):
    proc, addrs = start_zentrale(work, binary, SIP_LIMITS)
    api = Http(addrs["HTTP"])

    def user(name, extension, phones):
        s, _, b = api.call("POST", "/api/v1/users", {"username": name, "display_name": name.title(),
                                                    "extension": extension, "auth": "none"})
        assert s == 201, b
        accts = []
        for i in range(phones):
            password = f"{name}-phone-{i}-secret"
            s, _, b = api.call("POST", "/api/v1/devices", {"kind": "softphone", "user": name,
                                                          "sip_password": password})
            assert s == 201, b
            device = json.loads(b)
            ring = {"enabled": True, "wait": 0, "timeout": 30}
            s, _, b = api.call("PUT", f"/api/v1/users/{name}/devices/{device['id']}",
                               {"internal": ring, "external": ring, "team": ring})
            assert s == 200, b
            accts.append((device["sip_username"], password))
        return accts

    caller = user("anna", "100", 1)[0]
    phones = user("bert", CALLEE, 2)
    wait_sip(addrs["SIP/UDP"], proc, os.devnull)
    peer = Peer("zentrale", addrs["SIP/UDP"], work, caller, phones, lambda: rss_kib(proc.pid)["VmRSS"], patience)
    return proc, peer


def kamailio_peer(work, children, patience):
    caller, callee = ("100", "caller-secret"), (CALLEE, "callee-secret")
    proc, port = start_kamailio(work, os.path.join(CALLS, "kamailio.cfg"), kamailio_db(work, [caller, callee]),
                                children)
    peer = Peer("kamailio", port, work, caller, [callee, callee], lambda: pss_kib(proc.pid), patience)
    return proc, peer


def held(peer, rate, calls):
    """Runs `calls` calls at `rate`/s, each held calls/rate s; returns (peak concurrent calls,
    KiB grown by the peak, bytes per call as the slope, failed calls).

    The growth divided by the calls also holds the transactions that linger after each call's
    set-up (RFC 3261 Timers D, H, I, K: up to 32 s over UDP), a cost of the rate rather than
    of the calls up. Once those are steady (after LINGER s) and until the first BYE, only
    the calls up still grow: memory over calls there, fitted by least squares, is the cost of
    one active call."""
    hold_ms = calls * 1000 // rate
    cmd, stats = sipp_cmd(peer.work, os.path.join(CALLS, "call_uac.xml"), peer.port, peer.local,
                          peer.call_args(rate, calls, hold_ms))
    before = peer.memory()
    sipp = subprocess.Popen(cmd, cwd=peer.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, peak, grown, samples = time.monotonic(), 0, 0, []
    while sipp.poll() is None:
        time.sleep(0.25)
        up, mem, t = current(stats), peer.memory(), time.monotonic() - t0
        if up > peak:
            peak, grown = up, mem - before
        if LINGER < t < hold_ms / 1000 - 1:
            samples.append((up, mem))
    rows = stats_rows(stats)
    failed = int(rows[-1]["FailedCall(C)"]) if rows else calls
    peer.idle()
    return peak, grown, slope(samples), failed


def slope(samples):
    """Bytes per call: least squares of memory (KiB) over calls up; None with too few."""
    if len(samples) < 8:
        return None
    n = len(samples)
    mx, my = sum(x for x, _ in samples) / n, sum(y for _, y in samples) / n
    sxx = sum((x - mx) ** 2 for x, _ in samples)
    return sum((x - mx) * (y - my) for x, y in samples) / sxx * 1024 if sxx else None


def step(peer, rate, seconds):
    """One fixed-rate step; returns (passed, completed calls a second, failed calls)."""
    calls = rate * seconds
    ok, failed, secs = run_sipp(peer.work, os.path.join(CALLS, "call_uac.xml"), peer.port, peer.local,
                                peer.call_args(rate, calls, HOLD_MS))
    achieved = ok / max(secs - HOLD_MS / 1000, 0.001)
    peer.idle()
    passed = failed == 0 and ok == calls and achieved >= 0.9 * rate
    print(f"  {peer.name:8} offered {rate:5}/s: {ok} answered, {failed} failed, {achieved:6.0f}/s "
          f"{'pass' if passed else 'FAIL'}")
    return passed, achieved, failed


def search(peer, start, seconds, bisect):
    """The highest rate a step passes at; returns (rate, achieved) or (0, 0)."""
    best, low, high, rate = (0, 0.0), 0, None, start
    while high is None:
        passed, achieved, _ = step(peer, rate, seconds)
        if passed:
            best, low, rate = (rate, achieved), rate, rate * 3 // 2
        else:
            high = rate
    for _ in range(bisect):
        rate = (low + high) // 2
        if rate in (low, high):
            break
        passed, achieved, _ = step(peer, rate, seconds)
        if passed:
            best, low = (rate, achieved), rate
        else:
            high = rate
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10, help="length of a rate step")
    ap.add_argument("--start", type=int, default=50, help="the first rate step, calls/s")
    ap.add_argument("--bisect", type=int, default=3, help="steps narrowing the rate after the first failure")
    ap.add_argument("--held", type=int, default=2500, help="calls up at once at the memory measurement")
    ap.add_argument("--held-rate", type=int, default=50,
                    help=f"calls/s while building them up (held/held-rate must exceed {LINGER + 10} s)")
    ap.add_argument("--children", type=int, default=os.cpu_count(),
                    help="Kamailio UDP worker processes (default: the number of cores)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--binary", default=BINARY, help="the zentrale to measure (e.g. an older build)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="zentrale-calls-bench-")
    procs, peers = [], []
    try:
        patience = args.held // args.held_rate + 20
        for start in (lambda: zentrale_peer(work, args.binary, patience),
                      lambda: kamailio_peer(work, args.children, patience)):
            proc, peer = start()
            procs.append(proc)
            peers.append(peer)
        memory = {}
        for peer in peers:
            memory[peer.name] = held(peer, args.held_rate, args.held)
            peak, grown, _, failed = memory[peer.name]
            print(f"{peer.name:8} held {peak} calls at once ({failed} failed), memory +{grown} KiB")
        rates = {}
        for peer in peers:
            print(f"{peer.name}: call attempts per second")
            rates[peer.name] = search(peer, args.start, args.seconds, args.bisect)
        print()
        report(args, memory, rates)
    finally:
        for peer in peers:
            peer.stop()
        for proc in procs:
            stop(proc)
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(args, memory, rates):
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; Kamailio with "
          f"{args.children} UDP workers; sipp: 1 caller, 2 phones (one answers after 100 ms, one "
          f"rings and is cancelled); Digest on every INVITE on both")
    print(f"{'':36} {'zentrale':>10} {'Kamailio':>10} {'ratio':>7}")
    (z, za), (k, ka) = rates["zentrale"], rates["kamailio"]
    print(f"{'call attempts/s (held 1 s), offered':36} {z:10} {k:10} {z / max(k, 1):6.2f}x  (target >= 0.50x)")
    print(f"{'  completed/s at that rate':36} {za:10.0f} {ka:10.0f}")
    (zp, zg, zs, zf), (kp, kg, ks, kf) = memory["zentrale"], memory["kamailio"]
    print(f"{'calls held at once (failed)':36} {f'{zp} ({zf})':>10} {f'{kp} ({kf})':>10}")
    per = [g * 1024 / p if p else 0 for g, p in ((zg, zp), (kg, kp))]
    print(f"{'memory growth / calls held':36} {per[0]:9.0f}B {per[1]:9.0f}B  "
          f"(with {args.held_rate} calls/s of set-up transactions lingering)")
    fit = [f"{b:9.0f}B" if b is not None else f"{'-':>10}" for b in (zs, ks)]
    print(f"{'memory per active call (slope)':36} {fit[0]} {fit[1]}  "
          f"(zentrale RSS, Kamailio PSS; Kamailio keeps no dialog state)")


if __name__ == "__main__":
    main()
