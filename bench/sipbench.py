"""What the SIP benchmarks (bench/sip.py, bench/calls.py) share: zentrale and Kamailio 5.6
started on free ports in a work directory, a wait until either answers OPTIONS, sipp runs with
their statistics read back, and the memory of a process (tree).
"""

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from provisioning import REPO, ROOT, free_port, rss_kib  # noqa: F401 (re-exported)

DOMAIN = "bench.zentrale.test"
KAMAILIO_DBTEXT = "/usr/share/kamailio/dbtext/kamailio"
# Default release binary; --binary picks another.
BINARY = os.path.join(REPO, "target/release/zentrale")


def start_zentrale(work, binary, sip_extra=""):
    """zentrale on port 0 in `work`, `sip_extra` appended to its [sip] table (the bounds a
    benchmark raises); returns (proc, {"HTTP": port, "SIP/UDP": port, ...})."""
    config = os.path.join(work, "zentrale.toml")
    with open(config, "w") as f:
        f.write(f'[server]\ndata_dir = "{work}/data"\npublic_host = "{DOMAIN}"\n'
                f'[http]\nlisten = "127.0.0.1:0"\nhttps_listen = ""\n'
                f'[tftp]\nlisten = "127.0.0.1:0"\n'
                f'[sip]\nlisten = "127.0.0.1:0"\ndomain = "{DOMAIN}"\n{sip_extra}')
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
    # Keep reading its log (into the work directory), or a full pipe would stall the daemon.
    # Line-buffered: a benchmark may read the log while the daemon runs.
    log = open(os.path.join(work, "zentrale.log"), "w", buffering=1)
    threading.Thread(target=lambda: log.writelines(proc.stderr), daemon=True).start()
    return proc, addrs


def write_inf(path, accts):
    """sipp's -inf file, a line per account: its user name, its [authentication], the domain.
    Quoted: sipp decodes an unquoted value that starts with 0x as hex (and generated names may
    well start with 0x)."""
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for user, pw in accts:
            f.write(f"{user};[authentication username=\"{user}\" password=\"{pw}\"];{DOMAIN}\n")


def kamailio_db(work, accts):
    """A db_text directory with the subscriber table holding `accts` [(user, password)] and
    an empty location table, the table headers and versions as the package ships them."""
    db = os.path.join(work, "kamailio-db")
    os.makedirs(db)
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
    return db


def start_kamailio(work, cfg, db, children):
    """Kamailio with `cfg` on a free UDP port, its database `db`; returns (proc, port)."""
    port = free_port(socket.SOCK_DGRAM)
    log = os.path.join(work, "kamailio.log")
    proc = subprocess.Popen(["kamailio", "-f", cfg, "-DD", "-E",
                             "-l", f"udp:127.0.0.1:{port}", "-n", str(children),
                             "-A", f'DBURL="text://{db}"', "-w", work,
                             "-P", os.path.join(work, "kamailio.pid"), "-m", "256", "-M", "16"],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    wait_sip(port, proc, log)
    return proc, port


def stop(proc):
    """Ends a peer this module started (Kamailio: its whole process group)."""
    if proc and proc.poll() is None:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        proc.wait(timeout=30)


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


def sipp_cmd(work, scenario, port, local, args, transport="u1"):
    """The sipp command running `scenario` (a path) from 127.0.0.1:local against
    127.0.0.1:port with `args` added, and the path of its statistics file (one row a second
    and one at the end)."""
    tag = f"{os.path.basename(scenario)}-{port}-{time.monotonic_ns()}"
    stats = os.path.join(work, f"{tag}.csv")
    cmd = ["sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", str(local), "-t", transport,
           *args, "-nostdin", "-trace_stat", "-stf", stats, "-fd", "1", "-trace_err",
           "-error_file", os.path.join(work, f"{tag}-errors.log"), f"127.0.0.1:{port}"]
    return cmd, stats


def stats_rows(stats):
    """sipp's statistics rows so far (dicts by column name)."""
    try:
        with open(stats) as f:
            return list(csv.DictReader(f, delimiter=";"))
    except FileNotFoundError:
        return []


def run_sipp(work, scenario, port, local, args, transport="u1"):
    """Runs sipp to its end; returns (successful calls, failed calls, wall seconds)."""
    cmd, stats = sipp_cmd(work, scenario, port, local, args, transport)
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    secs = time.monotonic() - start
    rows = stats_rows(stats)
    if not rows:
        sys.exit(f"sipp wrote no statistics (exit {done.returncode}): {done.stderr[-2000:]}")
    last = rows[-1]
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]), secs


def pss_kib(pgid):
    """The proportional set size of a process group, KiB: Kamailio's workers share its memory,
    which summing their RSS would count once per worker."""
    total = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.getpgid(int(pid)) != pgid:
                    continue
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    total += next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
            except (OSError, StopIteration):
                continue
    return total
