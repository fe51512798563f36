#!/usr/bin/env python3
"""Voicemail benchmark: concurrent recordings, every RTP packet sent accounted for (issue 14).

Usage: bench/voicemail.py [--calls 1000] [--rate 50] [--speech 30] [--keep] [--binary PATH]
(bench/voicemail.sh installs sipp and builds the release binary first.)

The job: a sipp caller (bench/voicemail/caller.xml, sipp's uac_pcap way) calls extension 100,
user anna, who has no phones and voicemail as after-action; its INVITE is Digest-challenged
(401, INVITE again with Authorization). zentrale's voicemail answers, plays the greeting and
the beep; the caller waits them out, then replays a pcap of --speech seconds of continuous
G.711 A-law (a packet every 20 ms, written here) and hangs up with BYE. --calls calls at
--rate a second, --calls at once at most (sipp -l): with the defaults all 1,000 are recording
at once for about 15 s.

zentrale: release build, temp data dir, [voicemail] max_secs = 3600 (never reached),
min_secs = 1, max_silence_secs = 0 (the BYE ends each message), [sip] rtp_ports
10000-20000 (5,000 port pairs, its default) and the SIP bounds raised as in bench/calls.py
(sipp sends everything from one address). No [smtp] and anna has no email: no mail is made,
the messages stay in the box (the spool is not what this measures).

Counted:
* calls answered and failed (sipp), messages in anna's box (API) and their duration_ms;
* packets: sent by sipp (answered calls x the pcap's packets), received by zentrale and
  taken into recordings, from its log line per call ("voicemail: call N ended: …": received,
  accepted, lost, late, overflow, samples recorded and how many were silence put in for audio
  that did not arrive in time). Samples from packets = recorded - concealed; zero loss means
  each call's equals the pcap's packets x 160 (exact: the caller sends only after the beep,
  the BYE comes after its last packet has been played out);
* the kernel's receive-buffer drops on zentrale's RTP sockets (/proc/net/udp, sampled);
* CPU: user+sys of the zentrale process over the run per call, and in cores while all calls
  record at once (sipp's too: it shares the 2 cores); RSS growth per active call at the peak.

The peer: no recording PBX is installable here (Asterisk left Debian with bookworm, FreeSWITCH
was never in it), so the figures are printed next to the physical frame: G.711 at 20 ms is 50
packets a second per direction per call, and the issue's frame, rustpbx's about 500 relayed
calls per core.
"""

import argparse
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provisioning import REPO, Http, free_port  # noqa: E402
from sipbench import BINARY, rss_kib, sipp_cmd, start_zentrale, stats_rows, stop, wait_sip, write_inf  # noqa: E402

SCENARIO = os.path.join(REPO, "bench", "voicemail", "caller.xml")
# The English unavailable greeting is 5.1 s, the beep follows; the caller starts after this.
GREETING_MS = 7000
# After the pcap's last packet, before the BYE. sipp times its pause from the start of the
# pcap, not from the last packet its pcap thread sent: with 1,000 of those threads on 2 cores
# they fell up to 1.2 s behind, and a BYE 1 s after the pcap's nominal end overtook audio sipp
# had not sent yet (a phone sends its last packet before its BYE). 2.5 s covers that lag;
# a packet sent after the BYE still counts as sent and, not being in a WAV, as lost.
TAIL_MS = 2500
SAMPLES = 160
RTP_PORTS = (10000, 20000)
CONFIG = ("max_transactions = 2000000\nflood_rate = 10000000\nflood_burst = 10000000\n"
          'rtp_ports = "10000-20000"\n'
          "[voicemail]\nmax_secs = 3600\nmin_secs = 1\nmax_silence_secs = 0\n")
ENDED = re.compile(r"voicemail: call (\d+) ended: (\d+) packets received, (\d+) accepted, (\d+) lost, "
                   r"(\d+) late, (\d+) overflow; recorded (\d+) samples \((\d+) concealed\)"
                   r"(?:; arrived up to (\d+) ms behind,)?(?:;? read up to (\d+) ms after arrival)?")
FIELDS = ("received", "accepted", "lost", "late", "overflow", "recorded", "concealed", "behind", "waited")


def write_pcap(path, seconds):
    """`seconds` of a 440/660 Hz tone as A-law RTP, a packet every 20 ms, consecutive sequence
    numbers and timestamps, in a pcap (Ethernet/IPv4/UDP) sipp can replay; returns its
    packet count."""
    import math
    packets = seconds * 50
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n in range(packets):
            freq = 440 if (n // 50) % 2 == 0 else 660
            pcm = [int(8000 * math.sin(2 * math.pi * freq * (n * SAMPLES + i) / 8000)) for i in range(SAMPLES)]
            payload = bytes(alaw(s) for s in pcm)
            rtp = struct.pack("!BBHII", 0x80, 8 | (0x80 if n == 0 else 0), n & 0xFFFF, n * SAMPLES, 0x5A3E0001) + payload
            udp = struct.pack("!HHHH", 40000, 50000, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                             socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1")) + udp
            frame = b"\x00" * 12 + b"\x08\x00" + ip
            usec = n * 20000
            f.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame)
    return packets


def alaw(sample):
    """G.711 A-law of a 16-bit sample (ITU-T G.711 Table 1a, as the reference encoder)."""
    mask = 0xD5 if sample >= 0 else 0x55
    if sample < 0:
        sample = -sample - 1
    sample = min(sample, 32767) >> 3
    if sample < 32:
        return (sample >> 1) ^ mask
    seg = sample.bit_length() - 5
    return ((seg << 4) | ((sample >> seg) & 0x0F)) ^ mask


def scenario(work, pcap, speech_ms):
    with open(SCENARIO) as f:
        text = f.read()
    for key, value in (("GREETING_MS", GREETING_MS), ("PCAP", pcap), ("SPEECH_MS", speech_ms),
                       ("TAIL_MS", speech_ms + TAIL_MS)):
        text = text.replace(f"@{key}@", str(value))
    path = os.path.join(work, "caller.xml")
    with open(path, "w") as f:
        f.write(text)
    return path


def setup(api):
    """anna (100): no phones, voicemail; bert: one softphone, the caller's account."""
    s, _, b = api.call("POST", "/api/v1/users", {"username": "anna", "display_name": "Anna", "extension": "100",
                                                "auth": "none", "language": "en", "voicemail": "all"})
    assert s == 201, b
    s, _, b = api.call("POST", "/api/v1/users", {"username": "bert", "display_name": "Bert", "extension": "101",
                                                "auth": "none"})
    assert s == 201, b
    password = "bert-softphone-secret"
    s, _, b = api.call("POST", "/api/v1/devices", {"kind": "softphone", "user": "bert", "sip_password": password})
    assert s == 201, b
    return json.loads(b)["sip_username"], password


def cpu_secs(pid):
    """user + sys CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rtp_drops(seen):
    """Notes in `seen` (inode -> drops) the kernel's drop count of each UDP socket on a port of
    zentrale's RTP range (/proc/net/udp, last column: datagrams its full receive buffer turned
    away); sampled while the calls run, since a socket's count goes with it."""
    with open("/proc/net/udp") as f:
        for line in list(f)[1:]:
            cols = line.split()
            if RTP_PORTS[0] <= int(cols[1].split(":")[1], 16) < RTP_PORTS[1]:
                seen[cols[9]] = max(seen.get(cols[9], 0), int(cols[12]))


def run(work, port, local, acct, pcap, speech_ms, args, zpid):
    """Runs the calls; returns what was watched while they ran."""
    inf = os.path.join(work, "caller.csv")
    write_inf(inf, [acct])
    hold = GREETING_MS + speech_ms + TAIL_MS
    cmd, stats = sipp_cmd(work, scenario(work, pcap, speech_ms), port, local,
                          ["-inf", inf, "-key", "callee", "100", "-r", str(args.rate), "-rp", "1000",
                           "-m", str(args.calls), "-l", str(args.calls), "-mp", str(free_media_port()),
                           "-timeout", f"{args.calls // args.rate + hold // 1000 + 60}s",
                           "-recv_timeout", "15000", *(["-trace_msg"] if args.trace else [])])
    w = {"rss0": rss_kib(zpid)["VmRSS"], "cpu0": cpu_secs(zpid), "drops": {}, "peak": 0, "rss_peak": 0}
    sipp = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    full = []  # (time, zentrale cpu, sipp cpu) while all calls are up
    while sipp.poll() is None:
        time.sleep(0.5)
        rtp_drops(w["drops"])
        rows = stats_rows(stats)
        up = int(rows[-1]["CurrentCall"]) if rows else 0
        try:
            sample = (time.monotonic(), cpu_secs(zpid), cpu_secs(sipp.pid))
        except OSError:
            break
        if up >= w["peak"]:
            w["peak"], w["rss_peak"] = up, max(w["rss_peak"], rss_kib(zpid)["VmRSS"])
        if up >= args.calls:
            full.append(sample)
    rows = stats_rows(stats)
    last = rows[-1] if rows else {}
    w["ok"], w["failed"] = int(last.get("SuccessfulCall(C)", 0)), int(last.get("FailedCall(C)", args.calls))
    w["cpu"], w["drops"] = cpu_secs(zpid) - w["cpu0"], sum(w["drops"].values())
    if len(full) >= 2:
        (t0, z0, s0), (t1, z1, s1) = full[0], full[-1]
        w["full_secs"], w["cores"], w["sipp_cores"] = t1 - t0, (z1 - z0) / (t1 - t0), (s1 - s0) / (t1 - t0)
    return w


def free_media_port():
    """An even UDP port with the next two free (sipp binds its media port and port + 2)."""
    while True:
        port = free_port(socket.SOCK_DGRAM)
        if port % 2 == 0 and port < 65000:
            return port


def ended_calls(log, expected, patience=60):
    """The per-call lines of zentrale's log, once `expected` are there (or after `patience`)."""
    for _ in range(patience * 4):
        with open(log) as f:
            calls = [dict(zip(FIELDS, (int(g or 0) for g in m.groups()[1:]))) for m in ENDED.finditer(f.read())]
        if len(calls) >= expected:
            return calls
        time.sleep(0.25)
    return calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000, help="calls in all, and at once at the peak")
    ap.add_argument("--rate", type=int, default=50, help="new calls a second while building up")
    ap.add_argument("--speech", type=int, default=30, help="seconds each caller speaks")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--trace", action="store_true", help="sipp's message trace into the work directory")
    ap.add_argument("--binary", default=BINARY, help="the zentrale to measure")
    ap.add_argument("--rt", action="store_true",
                    help="run zentrale's threads SCHED_RR (chrt): sipp's 1,000 sender threads otherwise "
                         "outweigh its few threads in the kernel's per-thread fair share")
    args = ap.parse_args()
    if args.speech * 1000 < args.calls // args.rate * 1000:
        print(f"(--speech {args.speech} is shorter than the build-up: the calls never all record at once)")
    work = tempfile.mkdtemp(prefix="zentrale-voicemail-bench-")
    proc = None
    try:
        pcap = os.path.join(work, "speech.pcap")
        packets = write_pcap(pcap, args.speech)
        proc, addrs = start_zentrale(work, args.binary, CONFIG)
        if args.rt:
            # Threads made later (tokio's blocking pool) inherit the policy of their maker.
            subprocess.run(["chrt", "-a", "-r", "-p", "1", str(proc.pid)], check=True)
        api = Http(addrs["HTTP"])
        acct = setup(api)
        wait_sip(addrs["SIP/UDP"], proc, os.devnull)
        w = run(work, addrs["SIP/UDP"], free_port(socket.SOCK_DGRAM), acct, pcap, args.speech * 1000, args, proc.pid)
        calls = ended_calls(os.path.join(work, "zentrale.log"), w["ok"] + w["failed"])
        # A new connection: the server closed the idle one while the calls ran.
        s, _, b = Http(addrs["HTTP"]).call("GET", "/api/v1/users/anna/voicemail/messages")
        messages = json.loads(b) if s == 200 else []
        report(args, packets, w, calls, messages)
    finally:
        stop(proc)
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(args, packets, w, calls, messages):
    total = {k: sum(c[k] for c in calls) for k in FIELDS}
    most = {k: max((c[k] for c in calls), default=0) for k in ("behind", "waited")}
    sent = w["ok"] * packets
    exact = sum(1 for c in calls if c["recorded"] - c["concealed"] == packets * SAMPLES)
    wav = sum(m.get("duration_ms", 0) for m in messages) * 8
    print(f"zentrale's threads: {'SCHED_RR priority 1 (--rt)' if args.rt else 'the normal fair share'}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; sipp uac_pcap, "
          f"{args.calls} calls at {args.rate}/s, each {args.speech} s of A-law after the greeting")
    print(f"calls: {w['ok']} completed, {w['failed']} failed; at once at the peak: {w['peak']}; "
          f"all {args.calls} up for {w.get('full_secs', 0):.0f} s")
    print(f"messages in the box: {len(messages)}; calls that logged their end: {len(calls)}")
    print(f"RTP packets sent by sipp (completed calls x {packets}): {sent}")
    print(f"  received by zentrale {total['received']}, accepted {total['accepted']}, lost {total['lost']}, "
          f"late {total['late']}, overflow {total['overflow']}; receive-buffer drops on zentrale's RTP sockets {w['drops']}")
    print(f"  samples from packets in the recordings {total['recorded'] - total['concealed']} "
          f"(sent x 160 = {sent * SAMPLES}); calls recorded exactly: {exact} of {len(calls)}")
    print(f"  the most a packet arrived behind the earliest arrivals (sender and path jitter; "
          f"over the recording's 2 s window it is late): {most['behind']} ms; the most one waited in a socket "
          f"before zentrale read it: {most['waited']} ms")
    missing = sent - (total["recorded"] - total["concealed"]) // SAMPLES
    print(f"  packets sent that are not in a recording: {missing} (target 0)")
    print(f"  samples in the WAVs (API duration_ms x 8) {wav}, recorded {total['recorded']} "
          f"({total['concealed']} silence for audio not there: before the first and after the last packet)")
    n = max(w["ok"], 1)
    print(f"CPU (zentrale user+sys): {w['cpu']:.1f} s in all, {w['cpu'] / n * 1000:.0f} ms per call "
          f"({args.speech + GREETING_MS // 1000} s of media)")
    if "cores" in w:
        print(f"  with all {args.calls} recording: zentrale {w['cores']:.2f} cores "
              f"({w['cores'] / args.calls * 1000:.2f} ms/s per call), sipp {w['sipp_cores']:.2f} cores")
    print(f"RSS: {w['rss0']} KiB idle, {w['rss_peak']} KiB at the peak: "
          f"{(w['rss_peak'] - w['rss0']) * 1024 / max(w['peak'], 1):.0f} B per active call")
    pps = 50 * args.calls
    print(f"frame: {args.calls} G.711 calls are {pps} packets/s in and {pps} out while the greeting plays; "
          f"rustpbx relays about 500 calls per core (no recording peer installable: Asterisk is not in bookworm)")


if __name__ == "__main__":
    main()
