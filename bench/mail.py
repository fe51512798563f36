#!/usr/bin/env python3
"""Mail benchmark driver (run through bench/mail.sh).

zentrale: `zentrale mail test --count N --attach 100k.bin` enqueues N messages (each fsynced
before the next starts) while the daemon delivers them over pooled SMTP to smtp-sink.
Postfix: N x `sendmail` (postdrop -> pickup -> cleanup -> qmgr -> smtp) relaying the same
message to a second smtp-sink. Both clocks run from the first enqueue to the sink's Nth message.
RSS: the daemon's peak (VmHWM), the enqueuing CLI's peak, and the sum over Postfix's processes
sampled every 0.2 s.
"""
import email.message
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ZENTRALE_BIN", os.path.join(ROOT, "target/release/zentrale"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """smtp-sink with running counters (-c); `count` follows its mesg=N output."""

    def __init__(self, port):
        self.count = 0
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "nobody", "-c", f"127.0.0.1:{port}", "256"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            buf = (buf + chunk)[-200:]
            found = re.findall(rb"mesg=(\d+)", buf)
            if found:
                self.count = int(found[-1])

    def wait(self, n, timeout=1800):
        end = time.time() + timeout
        while self.count < n:
            if time.time() > end:
                raise SystemExit(f"sink has {self.count} of {n} messages after {timeout} s")
            time.sleep(0.05)
        return time.time()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def postfix_rss_kb():
    out = subprocess.run(["ps", "-o", "rss=", "-C", "master,qmgr,smtp,cleanup,pickup,trivial-rewrite,postdrop"],
                         capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split())


def bench_zentrale(work, att):
    port = free_port()
    sink = Sink(port)
    data = os.path.join(work, "z")
    conf = os.path.join(work, "z.toml")
    with open(conf, "w") as f:
        f.write(f'[server]\ndata_dir = "{data}"\n[http]\nlisten = "127.0.0.1:0"\nhttps_listen = ""\n'
                f'[tftp]\nlisten = "127.0.0.1:0"\n[smtp]\nurl = "smtp://127.0.0.1:{port}"\n'
                f'starttls = "opportunistic"\nfrom = "pbx@example.com"\nconcurrency = 4\n')
    daemon = subprocess.Popen([BIN, "serve", "--config", conf], stderr=subprocess.PIPE, text=True)
    for line in daemon.stderr:
        if "listening for HTTP on" in line:
            break
    threading.Thread(target=lambda: [None for _ in daemon.stderr], daemon=True).start()
    t0 = time.time()
    cli = subprocess.Popen(["/usr/bin/time", "-f", "%M", BIN, "mail", "test", "--to", "anna@example.com",
                            "--attach", att, "--count", str(N), "--config", conf],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while cli.poll() is None:
        peak = max(peak, rss_kb(daemon.pid))
        time.sleep(0.2)
    t_enq = time.time()
    cli_peak = int(cli.stderr.read().split()[-1])
    while sink.count < N:
        peak = max(peak, rss_kb(daemon.pid))
        sink.wait(min(N, sink.count + 1))
    t1 = time.time()
    hwm = rss_kb(daemon.pid, "VmHWM")
    daemon.send_signal(signal.SIGTERM)
    daemon.wait()
    sink.stop()
    return t_enq - t0, t1 - t0, max(peak, hwm), cli_peak


def bench_postfix(work, att):
    port = free_port()
    sink = Sink(port)
    main_cf = "/etc/postfix/main.cf"
    saved = os.path.join(work, "main.cf")
    shutil.copy(main_cf, saved)
    try:
        subprocess.run(["postconf", "-e", f"relayhost=[127.0.0.1]:{port}", "inet_interfaces=loopback-only",
                        "mydestination=", "default_transport=smtp", "relay_transport=smtp",
                        "smtp_tls_security_level=none", "message_size_limit=0",
                        "smtputf8_enable=no", "myhostname=bench.invalid"], check=True)
        subprocess.run(["postfix", "stop"], capture_output=True)
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        subprocess.run(["postfix", "start"], check=True, capture_output=True)
        msg = email.message.EmailMessage()
        msg["From"] = "pbx@example.com"
        msg["To"] = "anna@example.com"
        msg["Subject"] = "Neue Voicemail"
        msg.set_content("Hallo")
        with open(att, "rb") as f:
            msg.add_attachment(f.read(), maintype="application", subtype="octet-stream", filename="100k.bin")
        raw = msg.as_bytes()
        t0 = time.time()
        peak = 0
        for i in range(N):
            subprocess.run(["sendmail", "-i", "anna@example.com"], input=raw, check=True)
            if i % 50 == 0:
                peak = max(peak, postfix_rss_kb())
        t_enq = time.time()
        while sink.count < N:
            peak = max(peak, postfix_rss_kb())
            sink.wait(min(N, sink.count + 1))
        t1 = time.time()
        return t_enq - t0, t1 - t0, peak
    finally:
        subprocess.run(["postfix", "stop"], capture_output=True)
        shutil.copy(saved, main_cf)
        sink.stop()


def main():
    # A killed run still restores Postfix's main.cf (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = tempfile.mkdtemp(prefix="zentrale-mail-bench-")
    att = os.path.join(work, "100k.bin")
    with open(att, "wb") as f:
        f.write(os.urandom(100 * 1024))
    z_enq, z_all, z_rss, cli_rss = bench_zentrale(work, att)
    p_enq, p_all, p_rss = bench_postfix(work, att)
    print(f"\nmail benchmark: {N} messages, 100 KB attachment each, to smtp-sink on 127.0.0.1")
    print(f"{'':24}{'enqueue msg/s':>15}{'enqueue->accepted msg/s':>26}{'peak RSS':>12}")
    print(f"{'zentrale (spool)':24}{N / z_enq:>15.0f}{N / z_all:>26.0f}{z_rss / 1024:>10.0f} MB"
          f"   (enqueuing CLI: {cli_rss / 1024:.0f} MB)")
    print(f"{'postfix (sendmail)':24}{N / p_enq:>15.0f}{N / p_all:>26.0f}{p_rss / 1024:>10.0f} MB"
          f"   (sum of its processes)")
    print(f"ratio zentrale/postfix, enqueue->accepted: {p_all / z_all:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
