#!/usr/bin/env python3
"""Provisioning storm benchmark: zentrale next to nginx (HTTP) and tftpd-hpa (TFTP), same bytes.

Usage: bench/provisioning.py [--devices 2000] [--seconds 10] [--connections 64] [--tftp 500]
(bench/provisioning.sh installs nginx, wrk and tftpd-hpa and builds the release binary first.)

1. Starts the release build on port 0 in a temporary data directory, creates --devices users
   each with a Yealink phone, and enrolls every phone (its first fetch installs its Digest
   credentials).
2. HTTP: wrk fetches the phones' own configs round-robin, each request with a valid Digest
   Authorization (one nonce, valid five minutes), then nginx serves the same bytes as static
   files from the same paths. Prints requests/s of both.
3. TFTP: --tftp concurrent fetches of one 4 KB config plus one 20 MB firmware, from zentrale
   (tftp.serve_secrets on, so the per-device file is served) and from tftpd-hpa with the same
   files. Prints wall time of both.
4. zentrale's RSS after the storm, with every device's config cached.
"""

import argparse
import asyncio
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = ("root", "bench-password-1")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UA = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:00"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return {k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in f) if k in ("VmRSS", "VmHWM")}


def start_zentrale(work):
    binary = os.path.join(REPO, "target/release/zentrale")
    config = os.path.join(work, "zentrale.toml")
    with open(config, "w") as f:
        f.write(f'[server]\ndata_dir = "{work}/data"\n[http]\nlisten = "127.0.0.1:0"\n'
                f'https_listen = ""\n[tftp]\nlisten = "127.0.0.1:0"\nserve_secrets = true\n'
                f'[provisioning]\nrate_limit = 1000000\n')
    # The storm fetches 4 KB configs: an admin's template override pads the Yealink
    # device file with comment lines (overrides are read at start, like an admin's would be).
    overrides = os.path.join(work, "data", "templates", "yealink")
    os.makedirs(overrides)
    with open(os.path.join(REPO, "provisioning-templates", "yealink", "device.cfg")) as f:
        shipped = f.read()
    with open(os.path.join(overrides, "device.cfg"), "w") as f:
        f.write(shipped + "".join(f"# padding line {i:03d} to make a 4 KB config, as a real one with keys is\n"
                                  for i in range(45)))
    subprocess.run([binary, "admin", "create", "--username", ROOT[0], "--password", ROOT[1],
                    "--role", "system-admin", "--config", config], check=True, capture_output=True)
    proc = subprocess.Popen([binary, "serve", "--config", config], stderr=subprocess.PIPE, text=True)
    addrs = {}
    for line in proc.stderr:
        m = re.search(r"listening for (\w+) on ([0-9.]+):(\d+)", line)
        if m:
            addrs[m.group(1)] = int(m.group(3))
            if m.group(1) == "HTTP":
                break
    # Keep reading its log, or a full pipe would stall the daemon's logging.
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, addrs


class Http:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        token = base64.b64encode(f"{ROOT[0]}:{ROOT[1]}".encode()).decode()
        self.admin = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers=headers if headers is not None else self.admin)
        resp = self.conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()


def enroll(port, count):
    """Creates `count` users with a phone each; returns [(path, body, user, password)]."""
    api = Http(port)
    phones = []
    for i in range(count):
        mac = f"001565{i:06x}"
        s, _, b = api.call("POST", "/api/v1/users", {"username": f"u{i}", "display_name": f"User {i}",
                                                    "extension": str(1000 + i), "auth": "none"})
        assert s == 201, b
        s, _, b = api.call("POST", "/api/v1/devices", {"kind": "ip-phone", "mac": mac, "vendor": "yealink",
                                                      "model": "T54W", "user": f"u{i}"})
        assert s == 201, b
        path = f"/prov/{mac}.cfg"
        s, _, body = api.call("GET", path, headers={"User-Agent": UA})
        assert s == 200, (s, body)
        text = body.decode()
        user = re.search(r"static\.auto_provision\.server\.username = (\S+)", text).group(1)
        pw = re.search(r"static\.auto_provision\.server\.password = (\S+)", text).group(1)
        phones.append((path, body, user, pw))
    return phones


def digest_headers(port, phones):
    """One Authorization header per phone, all answering the same nonce."""
    s, headers, _ = Http(port).call("GET", phones[0][0], headers={"User-Agent": UA})
    assert s == 401
    challenge = {k.lower(): v for k, v in headers.items()}["www-authenticate"]
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    realm = re.search(r'realm="([^"]+)"', challenge).group(1)
    md5 = lambda t: hashlib.md5(t.encode()).hexdigest()
    out = []
    for path, _, user, pw in phones:
        ha1, ha2 = md5(f"{user}:{realm}:{pw}"), md5(f"GET:{path}")
        resp = md5(f"{ha1}:{nonce}:00000001:bench:auth:{ha2}")
        out.append((path, f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{path}", '
                          f'qop=auth, nc=00000001, cnonce="bench", response="{resp}"'))
    return out


WRK_LUA = """
local reqs = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, auth = line:match("^([^\\t]+)\\t(.*)$")
    reqs[#reqs + 1] = wrk.format("GET", path, {["User-Agent"] = "%s", ["Authorization"] = auth})
  end
  i = math.random(#reqs)
end
request = function()
  i = i %% #reqs + 1
  return reqs[i]
end
response = function(status)
  if status ~= 200 then error("status " .. status) end
end
""" % UA


def wrk(port, work, requests, seconds, connections):
    listing = os.path.join(work, "requests.tsv")
    with open(listing, "w") as f:
        f.writelines(f"{p}\t{a}\n" for p, a in requests)
    script = os.path.join(work, "storm.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA)
    run = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script,
                          f"http://127.0.0.1:{port}", "--", listing], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"wrk failed:\n{run.stdout}\n{run.stderr}")
    out = run.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"wrk saw failed responses:\n{out}")
    return rps


def start_nginx(work, phones):
    root = os.path.join(work, "www")
    os.makedirs(os.path.join(root, "prov"))
    for path, body, _, _ in phones:
        with open(root + path, "wb") as f:
            f.write(body)
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""user root; worker_processes auto; daemon off; pid {work}/nginx.pid; error_log {work}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; default_type text/plain; sendfile on; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; root {root}; }} }}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", work])
    wait_port(port)
    return proc, port


def wait_port(port):
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    sys.exit(f"nothing listens on {port}")


class TftpGet(asyncio.DatagramProtocol):
    """A minimal RFC 1350 + blksize client: one file into memory; resends its last packet
    after a second of silence (a server that is still starting, a lost datagram)."""

    def __init__(self, name, port, done):
        self.name, self.port, self.done, self.data, self.block = name, port, done, bytearray(), 0
        self.last, self.timer = None, None

    def send(self, pkt, addr):
        self.last = (pkt, addr)
        self.t.sendto(pkt, addr)
        if self.timer:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(1.0, self.resend)

    def resend(self):
        if not self.done.done():
            self.send(*self.last)

    def connection_made(self, transport):
        self.t = transport
        rrq = b"\x00\x01" + self.name.encode() + b"\x00octet\x00blksize\x001428\x00"
        self.send(rrq, ("127.0.0.1", self.port))

    def datagram_received(self, pkt, addr):
        op = struct.unpack("!H", pkt[:2])[0]
        if op == 6:  # OACK
            self.send(b"\x00\x04\x00\x00", addr)
        elif op == 3:
            block = struct.unpack("!H", pkt[2:4])[0]
            if block == (self.block + 1) & 0xFFFF:
                self.block = block
                self.data += pkt[4:]
            self.send(b"\x00\x04" + pkt[2:4], addr)
            if len(pkt) - 4 < 1428 and not self.done.done():
                self.timer.cancel()
                self.done.set_result(bytes(self.data))
        elif op == 5 and not self.done.done():
            self.timer.cancel()
            self.done.set_exception(RuntimeError(pkt[4:-1].decode(errors="replace")))


async def tftp_fetch(port, name):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    t, _ = await loop.create_datagram_endpoint(lambda: TftpGet(name, port, done),
                                               local_addr=("127.0.0.1", 0))
    try:
        return await asyncio.wait_for(done, 300)
    finally:
        t.close()


async def tftp_storm(port, config, count, firmware):
    start = time.perf_counter()
    results = await asyncio.gather(tftp_fetch(port, firmware), *[tftp_fetch(port, config) for _ in range(count)])
    return time.perf_counter() - start, results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--tftp", type=int, default=500)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="zentrale-bench-")
    procs = []
    try:
        zproc, ports = start_zentrale(work)
        procs.append(zproc)
        t0 = time.perf_counter()
        phones = enroll(ports["HTTP"], args.devices)
        print(f"setup: {args.devices} users+phones created and enrolled in {time.perf_counter() - t0:.1f} s")
        sizes = sorted(len(p[1]) for p in phones)
        print(f"per-device config size: {sizes[0]}..{sizes[-1]} bytes")
        requests = digest_headers(ports["HTTP"], phones)
        z_rps = wrk(ports["HTTP"], work, requests, args.seconds, args.connections)
        mem = rss_kib(zproc.pid)
        nproc, nport = start_nginx(work, phones)
        procs.append(nproc)
        n_rps = wrk(nport, work, requests, args.seconds, args.connections)
        print(f"HTTP storm, {args.connections} connections, {args.seconds} s each:")
        print(f"  zentrale  {z_rps:10.0f} req/s  (Digest-checked, rendered from the store, cached)")
        print(f"  nginx     {n_rps:10.0f} req/s  (static files, same bytes)")
        print(f"  ratio     {z_rps / n_rps:10.2f}")
        print(f"zentrale RSS with {args.devices} devices cached: {mem['VmRSS'] / 1024:.1f} MiB "
              f"(peak {mem['VmHWM'] / 1024:.1f} MiB)")
        tftp_bench(work, ports["TFTP"], phones, args.tftp)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


def tftp_bench(work, zport, phones, count):
    firmware = os.urandom(20 * 1024 * 1024)
    # The phone's own config (tftp.serve_secrets is on here) and a firmware in both roots.
    name = phones[0][0].rsplit("/", 1)[1]
    root = os.path.join(work, "tftproot")
    os.makedirs(root)
    with open(os.path.join(root, name), "wb") as f:
        f.write(phones[0][1])
    with open(os.path.join(root, "fw.rom"), "wb") as f:
        f.write(firmware)
    os.makedirs(os.path.join(work, "data", "firmware"), exist_ok=True)
    shutil.copy(os.path.join(root, "fw.rom"), os.path.join(work, "data", "firmware", "fw.rom"))
    z_secs, z_res = asyncio.run(tftp_storm(zport, name, count, "fw.rom"))
    tport = free_port(socket.SOCK_DGRAM)
    tproc = subprocess.Popen(["/usr/sbin/in.tftpd", "-L", "-u", "root", "-a", f"127.0.0.1:{tport}", "-s", root])
    try:
        t_secs, t_res = asyncio.run(tftp_storm(tport, name, count, "fw.rom"))
    finally:
        tproc.terminate()
        tproc.wait()
    for res in (z_res, t_res):
        assert res[0] == firmware and all(r == phones[0][1] for r in res[1:]), "wrong bytes"
    print(f"TFTP: {count} concurrent fetches of a {len(phones[0][1])}-byte config + one 20 MiB firmware:")
    print(f"  zentrale   {z_secs:6.2f} s")
    print(f"  tftpd-hpa  {t_secs:6.2f} s")


if __name__ == "__main__":
    main()
