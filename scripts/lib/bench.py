"""Field benchmarks on the shaped-WAN testbed: see scripts/bench for usage.

Every system is measured in the same testbed and run, one after the other,
from WAN counters on the routers' interfaces (Ethernet frames, so IP/TCP
headers count) and from the moment each host holds the verified patch.
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

from cost import CostGroup, CostSampler, proc_stat
from perf_profile import JVM_FLAGS as PERF_JVM_FLAGS, PerfRecording

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(ROOT, "scripts", "testbed")
PM = os.path.join(ROOT, "bin", "patchmesh")
DC_IP = "10.77.0.2"
# PATCHMESH_TESTBED_PREFIX (default pmf) names the testbed's namespaces; scripts/testbed reads it too
NS = os.environ.get("PATCHMESH_TESTBED_PREFIX", "pmf")
HDR = 66  # bytes of Ethernet + IPv4 + TCP (with timestamps) headers per frame


class BenchError(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def host_ns(s, h):
    return f"{NS}-s{s}-h{h}"


def host_ip(s, h):
    return f"10.{100 + s}.0.{10 + h}"


def parse_size(text):
    t = text.strip().upper().replace("IB", "B")
    for unit, mul in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if t.endswith(unit):
            return int(float(t[: -len(unit)]) * mul)
    return int(t)


def parse_rate(text):
    t = text.strip().lower()
    for unit, mul in (("gbit", 10**9), ("mbit", 10**6), ("kbit", 10**3), ("bit", 1)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * mul
    raise BenchError(f"bad rate '{text}' (use e.g. 20mbit)")


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


class Run:
    """Owns the work dir, background processes and the testbed; closes all of them."""

    def __init__(self, args, kind):
        self.args = args
        self.kind = kind
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = os.path.abspath(args.out or f"/tmp/patchmesh-bench/{kind}-{stamp}")
        os.makedirs(self.out, exist_ok=True)
        self.work = os.path.join(self.out, "work")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        os.makedirs(os.path.join(self.out, "logs"), exist_ok=True)
        self.procs = []
        self.testbed_up = False

    # -- processes ---------------------------------------------------------
    def sh(self, cmd, ns=None, check=True, env=None, capture=True, timeout=None):
        full = (["ip", "netns", "exec", ns] if ns else []) + cmd
        r = subprocess.run(full, capture_output=capture, text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise BenchError(f"{' '.join(cmd[:3])}... failed (exit {r.returncode}): {(r.stderr or '').strip()[-400:]}")
        return r

    def bg(self, name, cmd, ns=None, env=None, group=None):
        """Starts cmd in the background; with a CostGroup, the process (and all it starts) is counted in it."""
        full = (["ip", "netns", "exec", ns] if ns else []) + cmd
        if group:
            full = group.wrap(full)
        logf = open(os.path.join(self.out, "logs", name + ".log"), "w")
        p = subprocess.Popen(full, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        p.bench_name = name
        if group:
            group.track(p)
        self.procs.append(p)
        return p

    def stop(self, procs=None):
        procs = list(self.procs if procs is None else procs)
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        self.procs = [p for p in self.procs if p not in procs]

    # -- testbed -----------------------------------------------------------
    def testbed(self, sites, hosts):
        a = self.args
        subprocess.run([TESTBED, "down"], capture_output=True)
        cmd = [TESTBED, "up", "--sites", str(sites), "--hosts", str(hosts), "--down", a.down, "--up", a.up,
               "--rtt", a.rtt, "--loss", str(a.loss)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError("testbed up failed: " + (r.stderr or r.stdout).strip())
        self.testbed_up = True
        log(r.stdout.strip())

    def close(self):
        self.stop()
        if self.testbed_up:
            subprocess.run([TESTBED, "down"], capture_output=True)
            self.testbed_up = False

    def counters(self, sites):
        """(rx_bytes, rx_packets, tx_bytes, tx_packets) of each router's wan0, and of the DC's."""
        out = {}
        names = {s: f"{NS}-r{s}" for s in range(1, sites + 1)}
        names[0] = f"{NS}-dc"
        for s, ns in names.items():
            r = self.sh(["sh", "-c", "d=/sys/class/net/wan0/statistics; cat $d/rx_bytes $d/rx_packets $d/tx_bytes $d/tx_packets"], ns=ns)
            out[s] = tuple(int(x) for x in r.stdout.split())
        return out

    # -- patchmesh identities ----------------------------------------------
    def pm(self, *args, ns=None, check=True, timeout=600):
        return self.sh([PM, *args], ns=ns, check=check, timeout=timeout)

    def pm_seed_token(self, seed, data_dir, log_name="pm-seed"):
        """The admin token a seed started with --data DATA_DIR writes once it is up (at most 300 s)."""
        tok = f"{data_dir}/admin.token"
        deadline = time.time() + 300
        while not os.path.exists(tok):
            if seed.poll() is not None or time.time() > deadline:
                raise BenchError(f"patchmesh seed did not start (see logs/{log_name}.log)")
            time.sleep(0.2)
        return open(tok).read().strip()

    def pm_identities(self, names):
        """Publisher key, trust root, mesh CA and one TLS identity per (name, site)."""
        w = self.work
        os.makedirs(f"{w}/keys", exist_ok=True)
        self.pm("keygen", "--out", f"{w}/keys/publisher")
        self.pm("trust", "init", "--publisher", f"{w}/keys/publisher.pub", "--channel", "bench/**", "--expires", "30d",
                "--sign", f"{w}/keys/publisher.key", "--out", f"{w}/keys/root.pb")
        self.pm("ca", "init", "--out", f"{w}/tls/ca")
        pending = []
        for name, site in names:
            role = ["--role", "seed"] if name == "seed" else []  # seeds must hold a certified seed role
            pending.append(subprocess.Popen([PM, "ca", "issue", "--ca", f"{w}/tls/ca", "--node", name, "--site", site,
                                             "--out", f"{w}/tls/{name}"] + role, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            if len(pending) >= 4:
                self._wait_all(pending)
        self._wait_all(pending)

    @staticmethod
    def _wait_all(pending):
        for p in pending:
            if p.wait() != 0:
                raise BenchError("patchmesh ca issue failed: " + p.stderr.read().decode()[-300:])
        pending.clear()


def make_patch(path, size, seed=42):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def wait_files(paths, timeout, what, procs=()):
    """Waits until every path exists; returns {path: time it appeared (the file's mtime)}."""
    seen = {}
    deadline = time.time() + timeout
    while len(seen) < len(paths):
        for p in paths:
            if p not in seen and os.path.exists(p):
                seen[p] = os.stat(p).st_mtime
        if len(seen) == len(paths):
            break
        for pr in procs:
            if pr.poll() is not None and pr.returncode != 0:
                raise BenchError(f"{what}: {pr.bench_name} exited {pr.returncode} (see logs/{pr.bench_name}.log)")
        if time.time() > deadline:
            raise BenchError(f"{what}: only {len(seen)}/{len(paths)} hosts done after {timeout}s")
        time.sleep(0.1)
    return seen


# ---------------------------------------------------------------- wan ------
HOST_DONE = """set -e
curl -sf --retry 3 -o "$1.part" "$2"
[ "$(sha256sum "$1.part" | cut -d' ' -f1)" = "$3" ]
mv "$1.part" "$1"
date +%s.%N > "$1.done"
"""


def nginx_conf(run, www, port):
    conf = os.path.join(run.work, f"nginx-{port}.conf")
    tmp = os.path.join(run.work, "nginx-tmp")
    os.makedirs(tmp, exist_ok=True)
    with open(conf, "w") as f:
        f.write(f"""user root root;
worker_processes 1;
daemon off;
pid {run.work}/nginx-{port}.pid;
error_log {run.out}/logs/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{ listen {DC_IP}:{port}; root {www}; }}
}}
""")
    return conf


def wan_nginx(run, sites, hosts, patch, digest, group=None):
    """With a CostGroup, marks its CPU at "start" (curls started) and "done" (last host)."""
    www = os.path.join(run.work, "www")
    os.makedirs(www, exist_ok=True)
    os.link(patch, os.path.join(www, "patch.bin"))
    srv = run.bg("nginx", ["nginx", "-c", nginx_conf(run, www, 8080)], ns=f"{NS}-dc", group=group)
    time.sleep(1)
    if srv.poll() is not None:
        raise BenchError("nginx did not start (see logs/nginx.log)")
    script = os.path.join(run.work, "curl-host.sh")
    with open(script, "w") as f:
        f.write(HOST_DONE)
    before = run.counters(sites)
    if group:
        group.mark("start")
    t0 = time.time()
    clients, done = [], {}
    for s in range(1, sites + 1):
        for h in range(1, hosts + 1):
            d = os.path.join(run.work, "curl", f"s{s}-h{h}")
            os.makedirs(d, exist_ok=True)
            dest = os.path.join(d, "patch.bin")
            clients.append(run.bg(f"curl-s{s}-h{h}", ["sh", script, dest, f"http://{DC_IP}:8080/patch.bin", digest],
                                  ns=host_ns(s, h), group=group))
            done[(s, h)] = dest + ".done"
    wait_files(list(done.values()), run.args.timeout, "nginx/curl", clients)
    if group:
        group.mark("done")
        group.sample()
    after = run.counters(sites)
    times = {k: float(open(v).read()) - t0 for k, v in done.items()}
    run.stop(clients + [srv])
    return t0, times, before, after


def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, str):
        return bencode(x.encode())
    if isinstance(x, dict):
        return b"d" + b"".join(bencode(k) + bencode(x[k]) for k in sorted(x)) + b"e"
    raise TypeError(type(x))


def make_torrent(patch, out, announce, piece=256 * 1024):
    pieces = []
    with open(patch, "rb") as f:
        for b in iter(lambda: f.read(piece), b""):
            pieces.append(hashlib.sha1(b).digest())
    info = {"name": "patch.bin", "length": os.path.getsize(patch), "piece length": piece, "pieces": b"".join(pieces)}
    with open(out, "wb") as f:
        f.write(bencode({"announce": announce, "info": info}))
    return hashlib.sha1(bencode(info)).hexdigest()


ARIA_COMMON = ["--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
               "--seed-ratio=0.0", "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn",
               "--listen-port=6881", "--allow-overwrite=true", "--auto-save-interval=0",
               "--bt-save-metadata=false", "--rpc-save-upload-metadata=false", "--bt-max-peers=0"]


def wan_bittorrent(run, sites, hosts, patch, group=None):
    """With a CostGroup, marks its CPU at "start" (leechers started) and "done" (last host)."""
    bt = os.path.join(run.work, "bt")
    tracker_dir = os.path.join(bt, "tracker")
    os.makedirs(tracker_dir, exist_ok=True)
    os.chmod(bt, 0o755)
    torrent = os.path.join(bt, "patch.torrent")
    infohash = make_torrent(patch, torrent, f"http://{DC_IP}:6969/announce")
    with open(os.path.join(tracker_dir, "whitelist"), "w") as f:
        f.write(infohash + "\n")
    os.chmod(tracker_dir, 0o755)
    os.chmod(os.path.join(tracker_dir, "whitelist"), 0o644)
    tracker = run.bg("opentracker", ["opentracker", "-i", DC_IP, "-p", "6969", "-P", "6969", "-u", "_opentracker",
                                     "-d", tracker_dir, "-w", "/whitelist"], ns=f"{NS}-dc", group=group)
    seed_dir = os.path.join(bt, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    os.link(patch, os.path.join(seed_dir, "patch.bin"))
    seeder = run.bg("aria2-seed", ["aria2c", *ARIA_COMMON, "--bt-seed-unverified=true", "--dir", seed_dir,
                                   torrent], ns=f"{NS}-dc", group=group)
    time.sleep(3)
    for p in (tracker, seeder):
        if p.poll() is not None:
            raise BenchError(f"{p.bench_name} did not start (see logs/{p.bench_name}.log)")
    hook = os.path.join(bt, "done-hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\ndate +%s.%N > "$BENCH_DONE"\n')
    os.chmod(hook, 0o755)
    before = run.counters(sites)
    if group:
        group.mark("start")
    t0 = time.time()
    leechers, done = [], {}
    for s in range(1, sites + 1):
        for h in range(1, hosts + 1):
            d = os.path.join(bt, f"s{s}-h{h}")
            os.makedirs(d, exist_ok=True)
            env = dict(os.environ, BENCH_DONE=os.path.join(d, "done"))
            leechers.append(run.bg(f"aria2-s{s}-h{h}", ["aria2c", *ARIA_COMMON, "--dir", d,
                                                        f"--on-bt-download-complete={hook}", torrent],
                                   ns=host_ns(s, h), env=env, group=group))
            done[(s, h)] = os.path.join(d, "done")
    wait_files(list(done.values()), run.args.timeout, "BitTorrent", leechers)
    if group:
        group.mark("done")
        group.sample()
    after = run.counters(sites)
    times = {k: float(open(v).read()) - t0 for k, v in done.items()}
    run.stop(leechers + [seeder, tracker])
    digest = sha256(patch)
    for s in range(1, sites + 1):
        for h in range(1, hosts + 1):
            if sha256(os.path.join(bt, f"s{s}-h{h}", "patch.bin")) != digest:
                raise BenchError(f"BitTorrent: host s{s}-h{h} holds a wrong patch")
    return t0, times, before, after


def agents_cpu_s(agents):
    """Summed CPU-s of the agent processes (the launcher execs java: the started pid is the JVM)."""
    return sum((proc_stat(p.pid) or (0,))[0] for p, _ in agents.values())


# Agents run with the launcher's shipped defaults (bin/patchmesh: -Xmx64m, serial GC, ...): no
# extra flags unless PATCHMESH_JAVA_OPTS is set, and then the report names them (issue 15: a
# cost benchmark measures what ships).
AGENT_OPTS = ""
WAVE = 10  # agents started at once when there are more (pm_mesh)


def cds_archive():
    """The class-data archive bin/patchmesh passes to the JVM (same rule as the launcher), or None."""
    jar = os.environ.get("PATCHMESH_JAR", os.path.join(ROOT, "tools", "target", "patchmesh.jar"))
    cds = os.environ.get("PATCHMESH_CDS", "off")
    cds = jar[:-4] + ".jsa" if cds == "on" else cds
    ok = cds != "off" and "FlightRecord" not in os.environ.get("PATCHMESH_JAVA_OPTS", "") and os.path.isfile(cds) and os.path.isfile(jar) and os.path.getmtime(cds) > os.path.getmtime(jar)
    return cds if ok else None


def agent_flags(default=AGENT_OPTS):
    """The agents' JVM flags as a report names them."""
    extra = os.environ.get("PATCHMESH_JAVA_OPTS", default)
    cds = cds_archive()
    base = "launcher defaults" + (f" + PATCHMESH_CDS ({os.path.basename(cds)})" if cds else "")
    return f"{base} + `{extra}`" if extra.strip() else base


def pm_mesh(run, sites, hosts, agents_per_host=1, seed_opts="-Xmx256m -XX:+UseSerialGC -Xss512k", agent_opts=AGENT_OPTS,
            group=None, agent_extra=None, require_all=True):
    """Starts the seed in the DC and the agents; returns (seed admin URL, token, agents {(s,h,i): (proc, apply dir)}).

    Waits until the seed sees every member alive; with require_all=False it goes on after the
    join deadline as long as every agent process runs (run.alive = members alive at the seed then).
    agent_extra's "*" entry is added for every agent, before the agent's own.

    With a CostGroup the seed and the agents are counted in it (mark "start" before the seed starts);
    agent_extra maps an agent's name (s1-h1-a1) to JVM flags added for it alone (e.g. a JFR recording)."""
    w = run.work
    names = [("seed", "dc")] + [(f"s{s}-h{h}-a{i}", f"site-{s}") for s in range(1, sites + 1)
                                for h in range(1, hosts + 1) for i in range(1, agents_per_host + 1)]
    log(f"patchmesh: keys, trust root, CA and {len(names)} node certificates")
    run.pm_identities(names)
    t_start = time.time()
    if group:
        group.mark("start")
    seed = run.bg("pm-seed", [PM, "seed", "--data", f"{w}/pm/seed", "--trust", f"{w}/keys/root.pb",
                              "--listen", f"{DC_IP}:7700", "--site", "dc", "--admin", "127.0.0.1:7701",
                              "--tls", f"{w}/tls/seed"], ns=f"{NS}-dc",
                  env=dict(os.environ, PATCHMESH_JAVA_OPTS=seed_opts), group=group)
    # the seed first: a hundred JVMs starting at once would starve it
    token = run.pm_seed_token(seed, f"{w}/pm/seed")
    agents = {}

    def alive_members():
        st = run.sh(["curl", "-sf", "-H", f"Authorization: Bearer {token}", "http://127.0.0.1:7701/api/v1/status"],
                    ns=f"{NS}-dc", check=False)
        if st.returncode != 0:
            return 0
        return sum(1 for m in json.loads(st.stdout).get("members", []) if m.get("state") == "alive")

    def wait_wave():
        # Many JVMs starting at once on 2 cores starve each other and the seed's TLS
        # handshakes time out (seen with 100 agents at once: 28 joined in 5 min). Start
        # them in waves of WAVE and let each wave join before the next one starts.
        if len(agents) % WAVE or len(names) - 1 <= WAVE:
            return
        deadline = time.time() + 180
        while alive_members() < len(agents) + 1 and time.time() < deadline:
            time.sleep(1)
        log(f"patchmesh: {len(agents)} agents started, {alive_members() - 1} alive")

    for s in range(1, sites + 1):
        for h in range(1, hosts + 1):
            for i in range(1, agents_per_host + 1):
                wait_wave()
                n = f"s{s}-h{h}-a{i}"
                apply_dir = f"{w}/pm/apply/{n}"
                conf = ["--config", run.args.agent_config] if getattr(run.args, "agent_config", None) else []
                p = run.bg(f"pm-{n}", [PM, "agent", *conf, "--data", f"{w}/pm/{n}", "--trust", f"{w}/keys/root.pb",
                                       "--listen", f"{host_ip(s, h)}:{7700 + i}", "--site", f"site-{s}",
                                       "--join", f"{DC_IP}:7700", "--apply-dir", apply_dir, "--tls", f"{w}/tls/{n}"],
                           ns=host_ns(s, h), group=group,
                           env=dict(os.environ, PATCHMESH_JAVA_OPTS=" ".join(filter(None, (
                               os.environ.get("PATCHMESH_JAVA_OPTS", agent_opts), (agent_extra or {}).get("*"),
                               (agent_extra or {}).get(n))))))
                agents[(s, h, i)] = (p, apply_dir)
    want = len(agents) + 1
    deadline = time.time() + max(180, 3 * len(agents))
    alive = 0
    while True:
        st = run.sh(["curl", "-sf", "-H", f"Authorization: Bearer {token}", "http://127.0.0.1:7701/api/v1/status"],
                    ns=f"{NS}-dc", check=False)
        if st.returncode == 0:
            alive = sum(1 for m in json.loads(st.stdout).get("members", []) if m.get("state") == "alive")
            if alive >= want:
                break
        dead = [p.bench_name for p, _ in agents.values() if p.poll() is not None]
        if dead:
            raise BenchError(f"patchmesh agents exited: {', '.join(dead[:5])} (see logs/)")
        if time.time() > deadline:
            if require_all:
                raise BenchError(f"patchmesh: only {alive}/{want} members alive after waiting")
            log(f"patchmesh: only {alive}/{want} members alive at the seed after waiting; going on (every process runs)")
            break
        time.sleep(1)
    run.alive = alive
    run.join_s = time.time() - t_start
    log(f"patchmesh: seed + {len(agents)} agents {'alive' if alive >= want else 'started'} {run.join_s:.0f}s after starting them")
    return "http://127.0.0.1:7701", token, agents


def pm_publish(run, admin, token, src, version, channel="bench/patch"):
    env = dict(os.environ, PATCHMESH_TOKEN=token)
    # PATCHMESH_BENCH_CHUNK_AVG (e.g. 128KiB): publish with that average chunk size instead of the
    # default (an experiment: what of the rollout's cost is per chunk; BENCHMARKS 13x)
    avg = os.environ.get("PATCHMESH_BENCH_CHUNK_AVG")
    r = run.sh([PM, "publish", "--key", f"{run.work}/keys/publisher.key", "--channel", channel,
                "--version", str(version), "--seed", admin, "--json"] + (["--chunk-avg", avg] if avg else []) + [src],
               ns=f"{NS}-dc", env=env)
    return json.loads(r.stdout)


class WanSeries:
    """Samples the WAN counters every half second while in use: OUT/NAME, one row per sample (seconds from
    t0, DC tx bytes, each site's rx bytes, all since `before`, and the bytes queued at each site's
    downlink shaper) — where a rollout's link time goes, and whether the link held a queue (a
    delay-based pacer that backs off while the shaper's queue is empty reads the hosts' CPU as queuing)."""

    def __init__(self, run, sites, before, t0, name):
        import threading
        self.run, self.sites, self.before, self.t0, self.name = run, sites, before, t0, name
        self.rows, self.done = [], threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self.done.is_set():
            try:
                c = self.run.counters(self.sites)
            except BenchError:
                break
            q = self.run.sh(["tc", "-s", "qdisc", "show"], ns=f"{NS}-core", check=False).stdout
            self.rows.append((time.time() - self.t0, c[0][2] - self.before[0][2],
                              [c[s][0] - self.before[s][0] for s in range(1, self.sites + 1)]
                              + [backlog(q, f"s{s}") for s in range(1, self.sites + 1)]))
            self.done.wait(0.5)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(timeout=10)
        with open(os.path.join(self.run.out, self.name), "w") as f:
            f.write("t_s,dc_tx_bytes," + ",".join(f"s{s}_rx_bytes" for s in range(1, self.sites + 1)) + ","
                    + ",".join(f"s{s}_queued_bytes" for s in range(1, self.sites + 1)) + "\n")
            for t, tx, rx in self.rows:
                f.write(f"{t:.2f},{tx}," + ",".join(str(x) for x in rx) + "\n")
        return False


def backlog(tc_out, dev):
    """Bytes queued at the root qdisc of `dev` in `tc -s qdisc show` output (-1 if not found)."""
    lines = tc_out.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("qdisc ") and f" dev {dev} " in l + " " and " root " in l:
            for m in lines[i + 1:i + 4]:
                if "backlog" in m:
                    b = m.split("backlog", 1)[1].split()[0].rstrip("b")  # 0b, 1514b, 36Kb, 1.2Mb
                    mul = {"K": 1000, "M": 1000 ** 2}.get(b[-1:], 1)
                    return int(float(b[:-1] if mul > 1 else b) * mul)
    return -1


def pm_rollout(run, sites, agents, admin, token, src_dir, version, fname="patch.bin", group=None):
    """Publishes src_dir through the seed; returns (t0, times, before, after, publish json, rollout json, publish secs).

    The rollout's clock (t0) starts when the seed began announcing the manifest (the publish's
    announcedAtMillis; the agents may fetch before the publish CLI returns), or, from a seed that does not
    say, when the publish started. With a CostGroup, marks its CPU at f"v{version}-publish" (before the
    publish CLI starts: the seed's taking of the upload counts), f"v{version}-start" (the CLI returned)
    and f"v{version}-done" (the last agent applied it)."""
    before = run.counters(sites)
    if group:
        group.mark(f"v{version}-publish")
    tp = time.time()
    pub = pm_publish(run, admin, token, src_dir, version)
    if group:
        group.mark(f"v{version}-start")
    t_cli = time.time()
    t0 = pub["announcedAtMillis"] / 1000.0 if "announcedAtMillis" in pub else tp
    log(f"patchmesh: published v{version} {pub['manifestId'][:12]} ({pub['chunks']} chunks) in {t_cli - tp:.1f}s; "
        f"the seed announced it {t_cli - t0:.1f}s before the publish returned")
    env = dict(os.environ, PATCHMESH_TOKEN=token)
    waiter = run.bg(f"pm-rollout-v{version}", [PM, "rollout", "--admin", admin, "--manifest", pub["manifestId"], "--wait",
                                              "--timeout", f"{run.args.timeout}s"], ns=f"{NS}-dc", env=env)
    files = {k: os.path.join(d, fname) for k, (p, d) in agents.items()}
    # the applied file appears (atomically) once its chunks are verified and assembled;
    # its mtime is when that host held the verified patch
    with WanSeries(run, sites, before, t0, f"wan-series-v{version}.csv"):
        seen = wait_files(list(files.values()), run.args.timeout, "patchmesh", [p for p, _ in agents.values()])
    if group:
        group.mark(f"v{version}-done")
        group.sample()
    after = run.counters(sites)
    times = {k: seen[f] - t0 for k, f in files.items()}
    try:
        waiter.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise BenchError("patchmesh rollout --wait did not return after every agent applied the patch")
    if waiter.returncode != 0:
        raise BenchError(f"patchmesh rollout --wait exited {waiter.returncode}")
    run.procs.remove(waiter)
    ro = run.sh([PM, "rollout", "--admin", admin, "--manifest", pub["manifestId"], "--json"], ns=f"{NS}-dc", env=env)
    return t0, times, before, after, pub, json.loads(ro.stdout), t_cli - tp


def summarize(name, sites, size, down_bps, t0, times, before, after, aria_time=None):
    wan = {}
    for s in range(1, sites + 1):
        rxb = after[s][0] - before[s][0]
        rxp = after[s][1] - before[s][1]
        wan[s] = (rxb, rxb - HDR * rxp)
    seed_egress = after[0][2] - before[0][2]
    last = max(times.values())
    bound = size * 8 / down_bps
    vals = list(times.values())
    row = {
        "system": name,
        "hosts": len(times),
        "wan_in_max_per_site_x": max(v[0] for v in wan.values()) / size,
        "wan_in_mean_per_site_x": statistics.mean(v[0] for v in wan.values()) / size,
        "wan_payload_max_per_site_x": max(v[1] for v in wan.values()) / size,
        "last_host_s": last,
        "wan_bound_s": bound,
        "time_over_bound_x": last / bound,
        "time_over_aria2_x": (last / aria_time) if aria_time else float("nan"),
        "seed_egress_x": seed_egress / size,
        "p50_s": pct(vals, 50),
        "p99_s": pct(vals, 99),
    }
    return row, wan


def write_table(run, rows, title, notes):
    cols = list(rows[0].keys())
    with open(os.path.join(run.out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r.values()) + " |")
    lines += [""] + notes
    md = "\n".join(lines) + "\n"
    with open(os.path.join(run.out, "results.md"), "w") as f:
        f.write(md)
    print(md)


def plot(run, curves, title, bound=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, times in curves.items():
        t = sorted(times)
        ax.step([0] + t, list(range(0, len(t) + 1)), where="post", label=name)
    if bound:
        ax.axvline(bound, color="grey", linestyle=":", label="WAN bound (size / site link rate)")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("hosts holding the verified patch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(os.path.join(run.out, "hosts-complete.png"), dpi=110)


def machine():
    load = os.getloadavg()
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return (f"{os.cpu_count()} cores ({cpu}), {int(mem) // 1024} MiB RAM, kernel {platform.release()}, "
            f"load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")


def idle_window(agents, secs):
    """Idle CPU of the agents over secs: (% of a core per agent, mean over agents)."""
    c0, t = agents_cpu_s(agents), time.time()
    time.sleep(secs)
    return 100.0 * (agents_cpu_s(agents) - c0) / (time.time() - t) / max(1, len(agents))


def wan_patchmesh(run, a, patch_dir, digest, group, warm_dir=None, warm_digest=None, perf=None):
    """The mesh comes up, idles, takes v1 (first rollout after start), idles, takes v2 (warm).

    Returns {label: (t0, times, before, after, extra)} and the idle/cost figures."""
    extra_opts = {}
    if a.jfr and cds_archive():
        raise BenchError("--jfr with PATCHMESH_CDS: JDK 17 crashes when JFR starts in a JVM with an archive of the app's classes")
    if a.jfr:
        os.makedirs(os.path.join(run.out, "jfr"), exist_ok=True)
        extra_opts["s1-h1-a1"] = (f"-XX:StartFlightRecording=settings=profile,dumponexit=true,"
                                  f"filename={run.out}/jfr/s1-h1-a1.jfr")
    if perf:
        extra_opts["*"] = PERF_JVM_FLAGS  # every agent keeps frame pointers and writes a perf map when it exits
        perf.start()
    admin, token, agents = pm_mesh(run, a.sites, a.hosts, group=group, agent_extra=extra_opts)
    group.mark("alive")
    cost = {"join_s": run.join_s, "agent_pids": [p.pid for p, _ in agents.values()]}
    time.sleep(a.settle)
    cost["idle_before_pct"] = idle_window(agents, a.idle)
    out = {}
    # v2 names its file patch2.bin: the hosts' patch.bin of v1 must not count as v2 having arrived
    for version, src, dig, label, fname in ((1, patch_dir, digest, "patchmesh", "patch.bin"),
                                            (2, warm_dir, warm_digest, "patchmesh warm", "patch2.bin")):
        if src is None:
            continue
        t0, times, before, after, pub, ro, pub_s = pm_rollout(run, a.sites, agents, admin, token, src, version,
                                                              fname=fname, group=group)
        for (s, h, i), (p, d) in agents.items():
            if sha256(os.path.join(d, fname)) != dig:
                raise BenchError(f"patchmesh: host s{s}-h{h} holds a wrong patch after v{version}")
        with open(os.path.join(run.out, f"patchmesh-rollout-v{version}.json"), "w") as f:
            json.dump(ro, f, indent=1)
        out[label] = (t0, {(s, h): v for (s, h, i), v in times.items()}, before, after,
                      {"publish_s": pub_s, "chunks": pub["chunks"],
                       "cpu_rollout_s": group.between(f"v{version}-publish", f"v{version}-done")})
        if version == 1:
            time.sleep(a.settle)
            cost["idle_after_pct"] = idle_window(agents, a.idle)
    group.sample()
    cost["cold_s"] = group.between("start", "alive") + out["patchmesh"][4]["cpu_rollout_s"]
    cost["agents"] = len(agents)
    return out, cost


def perf_components(perf, pids, group, out):
    """--perf, once the agents have exited (their perf maps written): the components of each rollout."""
    perf.stop()
    log("patchmesh: reading the perf samples of each rollout (perf script)")
    windows, cgroup = [], {}
    for version, label in ((1, "patchmesh"), (2, "patchmesh warm")):
        if label in out:
            windows.append((label, group.mark_times[f"v{version}-publish"], group.mark_times[f"v{version}-done"]))
            cgroup[label] = out[label][4]["cpu_rollout_s"]
    try:
        return perf.report(pids, windows, cgroup)
    finally:
        perf.cleanup(pids)


# the programs whose peak RSS per process the wan table reports (the notes list every process)
WAN_PROGRAMS = {"nginx+curl": ("nginx", "curl"), "aria2+opentracker": ("aria2c", "opentracker"), "patchmesh": ("java",)}


def bench_wan(run):
    a = run.args
    size = parse_size(a.size)
    down_bps = parse_rate(a.down)
    patch_dir = os.path.join(run.work, "patch")
    os.makedirs(patch_dir, exist_ok=True)
    patch = os.path.join(patch_dir, "patch.bin")
    log(f"generating a {size} byte patch")
    make_patch(patch, size)
    digest = sha256(patch)
    warm_dir = warm_digest = None
    if a.warm:
        warm_dir = os.path.join(run.work, "patch-v2")
        os.makedirs(warm_dir, exist_ok=True)
        make_patch(os.path.join(warm_dir, "patch2.bin"), size, seed=43)  # a different patch: nothing in common
        warm_digest = sha256(os.path.join(warm_dir, "patch2.bin"))
    run.testbed(a.sites, a.hosts)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    load_start = os.getloadavg()
    sampler = CostSampler()
    results, groups, pm_cost, perf_notes = {}, {}, {}, []
    try:
        perf = PerfRecording(run.out) if a.perf else None
    except RuntimeError as e:
        raise BenchError(str(e))
    try:
        for system in a.systems.split(","):
            log(f"== {system}")
            if system == "nginx":
                g = groups["nginx+curl"] = sampler.add(CostGroup("nginx"))
                results["nginx+curl"] = wan_nginx(run, a.sites, a.hosts, patch, digest, group=g) + ({},)
            elif system == "bittorrent":
                g = groups["aria2+opentracker"] = sampler.add(CostGroup("aria2"))
                results["aria2+opentracker"] = wan_bittorrent(run, a.sites, a.hosts, patch, group=g) + ({},)
            elif system == "patchmesh":
                g = sampler.add(CostGroup("patchmesh"))
                out, pm_cost = wan_patchmesh(run, a, patch_dir, digest, g, warm_dir, warm_digest, perf=perf)
                for label in out:
                    groups[label] = g
                results.update(out)
            else:
                raise BenchError(f"unknown system '{system}'")
            log(f"{system}: last host after {max(results[list(results)[-1]][1].values()):.1f}s")
            run.stop()
            if system == "patchmesh" and perf:
                perf_notes = perf_components(perf, pm_cost["agent_pids"], g, out)
    finally:
        if perf:
            perf.stop()
        sampler.close()
        for g in set(groups.values()):
            g.close()
    run.close()
    aria = results.get("aria2+opentracker")
    aria_time = max(aria[1].values()) if aria else None
    aria_cpu = groups["aria2+opentracker"].between("start", "done") if aria else None
    flags = agent_flags()
    rows, per_site = [], {}
    for name, res in results.items():
        row, wan = summarize(name, a.sites, size, down_bps, res[0], res[1], res[2], res[3], aria_time)
        g = groups[name]
        if name.startswith("patchmesh"):
            cpu = res[4]["cpu_rollout_s"]
            cold = pm_cost["cold_s"] if name == "patchmesh" else float("nan")
        else:
            cpu, cold = g.between("start", "done"), g.between("created", "done")
        rss = g.rss_mb(WAN_PROGRAMS[name.replace(" warm", "")])
        row.update({
            "cpu_rollout_s": cpu,
            "cpu_over_aria2_x": cpu / aria_cpu if aria_cpu else float("nan"),
            "cpu_cold_s": cold,
            "rss_p50_mb": pct(rss, 50),
            "rss_max_mb": max(rss) if rss else float("nan"),
            "jvm": flags if name.startswith("patchmesh") else "-",
        })
        rows.append(row)
        per_site[name] = wan
    cpu_how = {g.how for g in groups.values()}
    notes = [f"- command: `scripts/bench wan --sites {a.sites} --hosts {a.hosts} --size {a.size} --down {a.down} "
             f"--up {a.up} --rtt {a.rtt} --loss {a.loss}" + ("" if a.warm else " --no-warm") + (" --jfr" if a.jfr else "")
             + (" --perf" if a.perf else "") + "`",
             f"- started {started}, load {load_start[0]:.1f}/{load_start[1]:.1f}/{load_start[2]:.1f}; "
             f"machine: {machine()} (load at the end)",
             f"- patchmesh agent JVM flags: {flags}; seed `-Xmx256m -XX:+UseSerialGC -Xss512k`"
             + ("; agent s1-h1-a1 also recorded JFR (settings=profile) into jfr/" if a.jfr else "")
             + (f"; every agent also ran `{PERF_JVM_FLAGS}` (--perf: frame pointers cost a little)" if a.perf else "")
             + (f"; patches published with --chunk-avg {os.environ['PATCHMESH_BENCH_CHUNK_AVG']}"
                " (PATCHMESH_BENCH_CHUNK_AVG; not the default)" if os.environ.get("PATCHMESH_BENCH_CHUNK_AVG") else ""),
             f"- cpu_rollout_s: CPU-s of all the system's processes ({', '.join(sorted(cpu_how))}: a cgroup per system"
             f"{'' if cpu_how <= {'cgroup2', 'cpuacct'} else '; proc = /proc/PID/stat of the process trees, sampled'}) "
             "from the moment the patch is handed over (nginx: curls started; aria2: leechers started; patchmesh: "
             "`publish --seed` started, agents up and idle: the seed's taking of the upload counts) to the last host "
             "holding it; patchmesh's rollout time counts from the seed's announce (announcedAtMillis); cpu_cold_s: from starting the "
             "system's processes (patchmesh: seed + agents until all alive, plus cpu_rollout_s; its idle windows "
             "not counted); the publish CLI and `rollout --wait` are not counted",
             "- rss: peak RSS (VmHWM) per process of the system's programs ("
             + "; ".join(f"{k}: {', '.join(v)}" for k, v in WAN_PROGRAMS.items()) + "); every process:"]
    for name, g in groups.items():
        if name != "patchmesh warm":
            notes.append(f"  - {name}: {g.rss_by_label()}")
    for name, res in results.items():
        g = groups[name]
        a_, b_ = (f"v{2 if name.endswith('warm') else 1}-publish", f"v{2 if name.endswith('warm') else 1}-done") \
            if name.startswith("patchmesh") else ("start", "done")
        roles = g.by_role(a_, b_)
        notes.append(f"- {name}: cpu_rollout_s by process: " + ", ".join(
            f"{r} x{len(v)} {sum(v):.1f} (max {max(v):.1f})" for r, v in sorted(roles.items())) +
            f"; the rest ({max(0.0, g.between(a_, b_) - sum(sum(v) for v in roles.values())):.1f}) in processes "
            "those started and in started processes that ended before the last host (curl scripts)")
        if name.startswith("patchmesh"):
            early = g.by_role(a_, a_.replace("-publish", "-start"))
            notes.append(f"- {name}: of that, before the publish CLI returned (the seed took the upload and "
                         "announced; agents may already fetch): " + ", ".join(
                             f"{r} x{len(v)} {sum(v):.1f}" for r, v in sorted(early.items())))
    if a.agent_config:
        notes.append(f"- patchmesh agents also read `--config {a.agent_config}`: "
                     + "; ".join(l.strip() for l in open(a.agent_config) if l.strip() and not l.startswith("#")))
    notes.append("- patchmesh WAN counters every 0.5 s during each rollout (from the publish): wan-series-v1.csv, "
                 "wan-series-v2.csv (warm)")
    if pm_cost:
        notes.append(f"- patchmesh idle CPU per agent ({pm_cost['agents']} agents, {a.idle}s windows after {a.settle}s "
                     f"to settle, /proc/PID/stat): before the rollout {pm_cost['idle_before_pct']:.2f} % of a core, "
                     f"after {pm_cost.get('idle_after_pct', float('nan')):.2f} %; mesh alive {pm_cost['join_s']:.0f}s "
                     f"after start")
        if "patchmesh warm" in results:
            notes.append("- patchmesh warm: a second, different patch of the same size (nothing in common with v1) "
                         "pushed to the same agents after the idle-after window")
    notes += [f"- patch {size} bytes; wan_in = rx bytes of the site router's WAN interface (Ethernet frames) / size; "
              f"wan_payload = the same minus {HDR} header bytes per frame; seed_egress = DC tx bytes / size",
              "- per-site WAN bytes in (raw / minus headers):"]
    for name, wan in per_site.items():
        notes.append(f"  - {name}: " + ", ".join(f"s{s} {v[0]:,} / {v[1]:,}" for s, v in wan.items()))
    for name, res in results.items():
        if name.startswith("patchmesh"):
            notes.append(f"- {name}: publish (chunk, sign, upload to the seed) took {res[4]['publish_s']:.1f}s; the "
                         f"rollout's clock starts when the seed announced it (announcedAtMillis), its CPU at the "
                         f"publish's start; {res[4]['chunks']} chunks")
    notes += perf_notes
    write_table(run, rows, "WAN rollout: nginx, BitTorrent, patchmesh", notes)
    plot(run, {n: list(r[1].values()) for n, r in results.items()},
         f"{a.sites} sites x {a.hosts} hosts, {size >> 20} MiB, {a.down} down / {a.up} up, rtt {a.rtt}",
         bound=size * 8 / down_bps)
    log(f"results in {run.out}")


# ---------------------------------------------------------------- delta ----
def edit_patch(src, dst, edits, seed=7, mode="mixed"):
    """v2 = v1 with small edits, 1-4 KiB each: half insertions and half in-place overwrites (mixed),
    or all insertions (insert), or all overwrites (overwrite)."""
    data = bytearray(open(src, "rb").read())
    rnd = random.Random(seed)
    changed = 0
    for i in range(edits):
        n = rnd.randint(1024, 4096)
        off = rnd.randrange(0, len(data) - n)
        if mode == "insert" or (mode == "mixed" and i % 2 == 0):
            data[off:off] = rnd.randbytes(n)
        else:
            data[off:off + n] = rnd.randbytes(n)
        changed += n
    with open(dst, "wb") as f:
        f.write(data)
    return changed


def bench_delta(run):
    """v1 -> v2 into one agent: a full download, rsync, then patchmesh once per --chunk-avg (each size in a
    fresh mesh: v1 rolled out, then v2, both published with that average; "default" = no --chunk-avg)."""
    a = run.args
    v1d, v2d = os.path.join(run.work, "v1"), os.path.join(run.work, "v2")
    os.makedirs(v1d, exist_ok=True)
    os.makedirs(v2d, exist_ok=True)
    v1, v2 = os.path.join(v1d, "patch.bin"), os.path.join(v2d, "patch.bin")
    if a.v1:
        shutil.copy(a.v1, v1)
        shutil.copy(a.v2, v2)
        size = os.path.getsize(v1)
        shape = f"v1 = {a.v1}, v2 = {a.v2}"
    else:
        size = parse_size(a.size)
        make_patch(v1, size)
        changed = edit_patch(v1, v2, a.edits, mode=a.edit_mode)
        shape = (f"v2 = v1 with {a.edits} edits ({ {'mixed': 'half insertions, half overwrites', 'insert': 'insertions', 'overwrite': 'overwrites'}[a.edit_mode]}, "
                 f"1-4 KiB each, {changed:,} bytes)")
    v2size = os.path.getsize(v2)
    d2 = sha256(v2)
    log(f"v1 {size} bytes, v2 {v2size} bytes; {shape}")
    run.testbed(1, 1)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    rows = []
    ns = host_ns(1, 1)

    def into_site(before, after):
        return after[1][0] - before[1][0], (after[1][0] - before[1][0]) - HDR * (after[1][1] - before[1][1])

    # full download of v2 (nginx + curl)
    srv = run.bg("nginx", ["nginx", "-c", nginx_conf(run, v2d, 8080)], ns=f"{NS}-dc")
    time.sleep(1)
    full_dir = os.path.join(run.work, "full")
    os.makedirs(full_dir, exist_ok=True)
    b = run.counters(1)
    t = time.time()
    run.sh(["curl", "-sf", "-o", f"{full_dir}/patch.bin", f"http://{DC_IP}:8080/patch.bin"], ns=ns)
    rows.append(("full download (curl)", *into_site(b, run.counters(1)), time.time() - t, None))
    run.stop([srv])
    if sha256(f"{full_dir}/patch.bin") != d2:
        raise BenchError("full download: wrong bytes")
    shutil.rmtree(full_dir)

    # rsync: a daemon in the DC serving v2; the host holds v1
    conf = os.path.join(run.work, "rsyncd.conf")
    with open(conf, "w") as f:
        f.write(f"use chroot = no\nuid = root\ngid = root\npid file = {run.work}/rsyncd.pid\n[patch]\npath = {v2d}\nread only = yes\n")
    rs = run.bg("rsyncd", ["rsync", "--daemon", "--no-detach", f"--config={conf}", f"--address={DC_IP}", "--port=8730"], ns=f"{NS}-dc")
    time.sleep(1)
    rs_dir = os.path.join(run.work, "rsync-host")
    os.makedirs(rs_dir, exist_ok=True)
    shutil.copy(v1, f"{rs_dir}/patch.bin")
    b = run.counters(1)
    t = time.time()
    run.sh(["rsync", "--no-whole-file", "--times", f"rsync://{DC_IP}:8730/patch/patch.bin", f"{rs_dir}/patch.bin"], ns=ns)
    rows.append(("rsync (daemon)", *into_site(b, run.counters(1)), time.time() - t, None))
    run.stop([rs])
    if sha256(f"{rs_dir}/patch.bin") != d2:
        raise BenchError("rsync: wrong bytes")
    shutil.rmtree(rs_dir)

    # patchmesh: per chunk size, a fresh mesh; v1 rolled out first, then v2
    base_work, pubs = run.work, {}
    for avg in a.chunk_avg.split(","):
        if avg == "default":
            os.environ.pop("PATCHMESH_BENCH_CHUNK_AVG", None)
        else:
            os.environ["PATCHMESH_BENCH_CHUNK_AVG"] = avg
        run.work = os.path.join(base_work, f"pm-{avg}")
        os.makedirs(run.work)
        admin, token, agents = pm_mesh(run, 1, 1)
        pm_rollout(run, 1, agents, admin, token, v1d, 1)
        for (p, d) in agents.values():
            os.rename(os.path.join(d, "patch.bin"), os.path.join(d, "patch.v1"))
        t0, times, before, after, pub, ro, pub_s = pm_rollout(run, 1, agents, admin, token, v2d, 2)
        listed = run.sh(["curl", "-sf", "-H", f"Authorization: Bearer {token}",
                         f"{admin}/api/v1/manifests?channel=bench/patch"], ns=f"{NS}-dc", check=False)
        signed = {m["id"]: m for m in json.loads(listed.stdout or "[]")}.get(pub["manifestId"], {})
        man = signed.get("signedBytes")
        # an agent holding v1 may get v2's manifest as a delta (BENCHMARKS 13af): its log says how big
        try:
            found = re.findall(r"verified manifest bench/patch v2 .* as a delta of (\d+) B",
                               open(os.path.join(run.out, "logs", "pm-s1-h1-a1.log")).read())
            if found:
                man = int(found[-1])
                log(f"patchmesh ({avg}): v2's manifest ({signed.get('signedBytes')} B signed) came as a {man} B delta")
        except OSError:
            pass
        rows.append((f"patchmesh v1->v2, chunk avg {avg}", *into_site(before, after), max(times.values()), man))
        pubs[avg] = dict(pub, chunkParams=signed.get("chunkParams"))
        with open(os.path.join(run.out, f"patchmesh-rollout-v2-{avg}.json"), "w") as f:
            json.dump({"publish": pub, "rollout": ro, "listed": signed}, f, indent=1)
        for (p, d) in agents.values():
            if sha256(os.path.join(d, "patch.bin")) != d2:
                raise BenchError(f"patchmesh ({avg}): wrong v2 bytes")
        run.stop()
        shutil.rmtree(run.work, ignore_errors=True)
    run.work = base_work
    run.close()
    rsync_bytes = rows[1][1]
    out_rows = [{"system": n, "bytes_into_site": raw, "payload_bytes": pay, "x_v2_size": raw / v2size,
                 "x_rsync": raw / rsync_bytes, "manifest_bytes": man if man is not None else "",
                 "manifest_share": man / raw if man else "", "seconds": secs} for n, raw, pay, secs, man in rows]
    what = f"--v1 {a.v1} --v2 {a.v2}" if a.v1 else f"--size {a.size} --edits {a.edits} --edit-mode {a.edit_mode}"
    notes = [f"- command: `scripts/bench delta {what} --chunk-avg {a.chunk_avg} --down {a.down} --up {a.up} --rtt {a.rtt}`",
             f"- started {started}; machine: {machine()}; patchmesh agent JVM flags: {agent_flags()}",
             f"- v1 {size:,} bytes; v2 {v2size:,} bytes; {shape}",
             "- patchmesh publishes (chunk avg: chunks, new chunks, new bytes, params): " + "; ".join(
                 f"{k}: {v.get('chunks')}, {v.get('newChunks')}, {v.get('newBytes')}, {v.get('chunkParams')}" for k, v in pubs.items()),
             "- manifest_bytes = the signed v2 manifest's size (the seed's listing), or the delta's size when the agent's"
             " log says v2's manifest came as a delta against v1's; the agent fetches it once over the WAN",
             f"- bytes into the site = rx bytes of the site router's WAN interface (Ethernet frames); payload = minus {HDR} per frame"]
    write_table(run, out_rows, "Delta v1 -> v2: patchmesh vs rsync vs a full download", notes)


# ---------------------------------------------------------------- scale ----
def proc_rss_kb(pid):
    """RSS of the java process under an `ip netns exec` / launcher chain rooted at pid."""
    best = 0
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        kids = []
    for p in [str(pid)] + kids:
        try:
            for l in open(f"/proc/{p}/status"):
                if l.startswith("VmRSS:"):
                    best = max(best, int(l.split()[1]))
        except OSError:
            pass
        if p != str(pid):
            best = max(best, proc_rss_kb(int(p)))
    return best


def proc_pss_kb(pid):
    """(PSS, private) kB of the java process under pid (smaps_rollup; private = Private_Clean +
    Private_Dirty): RSS counts the pages agents share (libjvm, RocksDB's library) once per agent,
    PSS splits them among their users, so the sum of PSS is what the agents take together."""
    j = java_pid(pid)
    pss = priv = 0
    try:
        for l in open(f"/proc/{j}/smaps_rollup"):
            k, v = l.split()[:2] if l[0].isalpha() else (None, None)
            if k == "Pss:":
                pss = int(v)
            elif k in ("Private_Clean:", "Private_Dirty:"):
                priv += int(v)
    except (OSError, TypeError, ValueError):
        pass
    return pss, priv


def java_pid(pid):
    for _ in range(5):
        try:
            if os.readlink(f"/proc/{pid}/exe").endswith("java"):
                return pid
        except OSError:
            return None
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        if not kids:
            return None
        pid = int(kids[0])
    return None


def heap_used_mb(jpid):
    """Heap in use and committed (MB) from `jcmd GC.heap_info` (SerialGC: def + tenured)."""
    r = subprocess.run(["jcmd", str(jpid), "GC.heap_info"], capture_output=True, text=True, timeout=60)
    used = committed = 0
    import re
    for m in re.finditer(r"(def new generation|tenured generation)\s+total (\d+)K, used (\d+)K", r.stdout):
        committed += int(m.group(2))
        used += int(m.group(3))
    return used / 1024, committed / 1024


# ---------------------------------------------------------------- yield ----
# One site behind a 10 Mbit/s link with a deep buffer; host 1 is a person's PC (an iperf3
# download from the data centre, CUBIC, and a ping), every host also runs the system under test.
# Each system moves one patch: alone for YIELD_ALONE_S, then beside iperf3 for YIELD_IPERF_S, then
# alone again until done. Everything is read afterwards from three logs: the site router's WAN
# rx counter (sampled every 0.25 s), the ping's timestamped replies and iperf3's JSON.
YIELD_WARM_S = 3  # after the transfer's bytes start flowing, before the alone window
YIELD_ALONE_S = 10
YIELD_IPERF_S = 20
YIELD_OMIT_S = 3  # iperf3's slow start, left out of its average (-O) in both runs


def yield_sampler(run):
    """Starts logging `time rx_bytes` of the site router's WAN interface every 0.25 s; returns the log path."""
    path = os.path.join(run.out, "logs", "yield-rx.log")
    run.bg("yield-rx", ["sh", "-c", "while :; do echo $(date +%s.%N) $(cat /sys/class/net/wan0/statistics/rx_bytes); "
                        "sleep 0.25; done"], ns=f"{NS}-r1")
    return path


def yield_read_rx(path):
    out = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            out.append((float(parts[0]), int(parts[1])))
    return out


def yield_rate(rx, t0, t1):
    """Bytes per second into the site over [t0, t1] from the samples nearest inside it."""
    inside = [x for x in rx if t0 <= x[0] <= t1]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] <= 0:
        return float("nan")
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def yield_pings(path):
    """(unix time, rtt ms) of every reply in a `ping -D` log."""
    import re
    out = []
    for line in open(path):
        m = re.match(r"\[(\d+\.\d+)\].*time=([\d.]+) ms", line)
        if m:
            out.append((float(m.group(1)), float(m.group(2))))
    return out


def yield_iperf(run, name):
    """Runs the person's download (iperf3 client in the DC, CUBIC) for YIELD_IPERF_S; returns (start, end, Mbit/s received)."""
    t0 = time.time()
    r = run.sh(["iperf3", "-c", host_ip(1, 1), "-t", str(YIELD_IPERF_S), "-O", str(YIELD_OMIT_S), "-C", "cubic", "-J"],
               ns=f"{NS}-dc", check=False, timeout=YIELD_IPERF_S + 60)
    t1 = time.time()
    with open(os.path.join(run.out, "logs", f"iperf3-{name}.json"), "w") as f:
        f.write(r.stdout)
    try:
        bps = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
    except (ValueError, KeyError):
        raise BenchError(f"iperf3 ({name}) failed: {(r.stderr or r.stdout)[-300:]}")
    return t0, t1, bps / 1e6


def yield_mesh(run, hosts, wan_yield, tag, port):
    """A seed in the DC (mesh PORT, admin PORT+1) and one agent per host of site 1 with `wan-yield: WAN_YIELD`."""
    w = run.work
    conf = os.path.join(w, f"agent-{tag}.yaml")
    with open(conf, "w") as f:
        f.write(f"wan-yield: {wan_yield}\n")
    # the seed's upload-yield follows the agents' setting: `off` is a rollout that yields nowhere
    seed_conf = os.path.join(w, f"seed-{tag}.yaml")
    with open(seed_conf, "w") as f:
        f.write(f"upload-yield: {wan_yield}\n")
    seed = run.bg(f"pm-seed-{tag}", [PM, "seed", "--config", seed_conf, "--data", f"{w}/pm-{tag}/seed", "--trust", f"{w}/keys/root.pb",
                                     "--listen", f"{DC_IP}:{port}", "--site", "dc", "--admin", f"127.0.0.1:{port + 1}",
                                     "--tls", f"{w}/tls/seed"], ns=f"{NS}-dc",
                  env=dict(os.environ, PATCHMESH_JAVA_OPTS="-Xmx256m -XX:+UseSerialGC"))
    token = run.pm_seed_token(seed, f"{w}/pm-{tag}/seed", f"pm-seed-{tag}")
    agents = {}
    for h in range(1, hosts + 1):
        n = f"s1-h{h}-a1"
        apply_dir = f"{w}/pm-{tag}/apply/{n}"
        p = run.bg(f"pm-{tag}-{n}", [PM, "agent", "--config", conf, "--data", f"{w}/pm-{tag}/{n}", "--trust",
                                     f"{w}/keys/root.pb", "--listen", f"{host_ip(1, h)}:{port}", "--site", "site-1",
                                     "--join", f"{DC_IP}:{port}", "--apply-dir", apply_dir, "--tls", f"{w}/tls/{n}"],
                   ns=host_ns(1, h))
        agents[h] = (p, apply_dir)
    deadline = time.time() + 300
    while True:
        st = run.sh(["curl", "-sf", "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port + 1}/api/v1/status"],
                    ns=f"{NS}-dc", check=False)
        if st.returncode == 0 and sum(1 for m in json.loads(st.stdout).get("members", [])
                                      if m.get("state") == "alive") >= hosts + 1:
            break
        if time.time() > deadline or any(p.poll() is not None for p, _ in agents.values()):
            raise BenchError(f"patchmesh ({tag}): the agents did not all join (see logs/)")
        time.sleep(1)
    return f"http://127.0.0.1:{port + 1}", token, [seed] + [p for p, _ in agents.values()], \
        {h: os.path.join(d, "patch.bin") for h, (p, d) in agents.items()}


def yield_start_patchmesh(run, hosts, patch_dir, wan_yield, tag, port):
    admin, token, procs, files = yield_mesh(run, hosts, wan_yield, tag, port)
    pm_publish(run, admin, token, patch_dir, 1)
    return list(files.values()), procs


def yield_start_aria2(run, hosts, patch):
    bt = os.path.join(run.work, "bt")
    tracker_dir = os.path.join(bt, "tracker")
    os.makedirs(tracker_dir, exist_ok=True)
    os.chmod(bt, 0o755)
    torrent = os.path.join(bt, "patch.torrent")
    infohash = make_torrent(patch, torrent, f"http://{DC_IP}:6969/announce")
    with open(os.path.join(tracker_dir, "whitelist"), "w") as f:
        f.write(infohash + "\n")
    os.chmod(tracker_dir, 0o755)
    os.chmod(os.path.join(tracker_dir, "whitelist"), 0o644)
    tracker = run.bg("opentracker", ["opentracker", "-i", DC_IP, "-p", "6969", "-P", "6969", "-u", "_opentracker",
                                     "-d", tracker_dir, "-w", "/whitelist"], ns=f"{NS}-dc")
    seed_dir = os.path.join(bt, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    os.link(patch, os.path.join(seed_dir, "patch.bin"))
    seeder = run.bg("aria2-seed", ["aria2c", *ARIA_COMMON, "--bt-seed-unverified=true", "--dir", seed_dir, torrent],
                    ns=f"{NS}-dc")
    time.sleep(3)
    hook = os.path.join(bt, "done-hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\ndate +%s.%N > "$BENCH_DONE"\n')
    os.chmod(hook, 0o755)
    procs, done = [tracker, seeder], []
    for h in range(1, hosts + 1):
        d = os.path.join(bt, f"s1-h{h}")
        os.makedirs(d, exist_ok=True)
        env = dict(os.environ, BENCH_DONE=os.path.join(d, "done"))
        procs.append(run.bg(f"aria2-s1-h{h}", ["aria2c", *ARIA_COMMON, "--dir", d, f"--on-bt-download-complete={hook}",
                                               torrent], ns=host_ns(1, h), env=env))
        done.append(os.path.join(d, "done"))
    return done, procs


def yield_start_nginx(run, hosts, patch, digest):
    www = os.path.join(run.work, "www")
    os.makedirs(www, exist_ok=True)
    os.link(patch, os.path.join(www, "patch.bin"))
    srv = run.bg("nginx", ["nginx", "-c", nginx_conf(run, www, 8080)], ns=f"{NS}-dc")
    time.sleep(1)
    script = os.path.join(run.work, "curl-host.sh")
    with open(script, "w") as f:
        f.write(HOST_DONE)
    procs, done = [srv], []
    for h in range(1, hosts + 1):
        d = os.path.join(run.work, "curl", f"s1-h{h}")
        os.makedirs(d, exist_ok=True)
        dest = os.path.join(d, "patch.bin")
        procs.append(run.bg(f"curl-s1-h{h}", ["sh", script, dest, f"http://{DC_IP}:8080/patch.bin", digest],
                            ns=host_ns(1, h)))
        done.append(dest + ".done")
    return done, procs


def read_stamp(path):
    """A done file's timestamp; it is written by `date > file`, so it can be seen before its content."""
    for _ in range(100):
        text = open(path).read().strip()
        if text:
            return float(text)
        time.sleep(0.05)
    return os.path.getmtime(path)


def yield_one(run, name, rx_log, start):
    """Runs one system's transfer with the person's download in its middle; returns its timeline."""
    t_start = time.time()
    done, procs = start()
    first = None
    while first is None:  # the transfer's bytes flowing: 1 MB into the site
        rx = yield_read_rx(rx_log)
        base = [x for x in rx if x[0] >= t_start]
        if base and base[-1][1] - base[0][1] >= 1 << 20:
            first = base[-1][0]
        if time.time() - t_start > 600:
            raise BenchError(f"{name}: no bytes into the site after 600 s")
        time.sleep(0.25)
    alone = (first + YIELD_WARM_S, first + YIELD_WARM_S + YIELD_ALONE_S)
    time.sleep(max(0, alone[1] - time.time()))
    if all(os.path.exists(d) for d in done):
        raise BenchError(f"{name}: done before the person's download started; use a larger --size")
    i0, i1, mbit = yield_iperf(run, name.split()[0] + ("-off" if "off" in name else ""))
    finished_during = all(os.path.exists(d) for d in done)
    seen = wait_files(done, run.args.timeout, name, [p for p in procs if p.bench_name.startswith("pm-")])
    t_done = max(seen.values())
    if "patchmesh" not in name:  # nginx/aria2 write a timestamp file, its content is the time
        t_done = max(read_stamp(d) for d in done)
    run.stop(procs)
    time.sleep(2)
    return {"name": name, "start": t_start, "first": first, "alone": alone, "iperf": (i0, i1, mbit), "done": t_done,
            "finished_during_iperf": finished_during}


def yield_row(tl, rx, pings, link_bps, iperf_alone, base_ms):
    a0, a1 = tl["alone"]
    i0, i1, mbit = tl["iperf"]
    alone_rate = yield_rate(rx, a0, a1)
    during = yield_rate(rx, i0 + YIELD_OMIT_S, i1)
    # recovery: the end of the first 1-s window after iperf3 ends whose rate is back to 90% of the alone rate
    recovery = float("nan")
    t = i1
    while t + 1 <= tl["done"]:
        if yield_rate(rx, t, t + 1) >= 0.9 * alone_rate:
            recovery = t + 1 - i1
            break
        t += 0.25
    p_alone = [r for (ts, r) in pings if a0 <= ts <= a1]
    p_beside = [r for (ts, r) in pings if i0 + YIELD_OMIT_S <= ts <= i1]
    return {
        "system": tl["name"],
        "link_use_alone": alone_rate * 8 / link_bps,
        "ping_p95_added_alone_ms": pct(p_alone, 95) - base_ms,
        "iperf3_mbit_beside": mbit,
        "iperf3_kept": mbit / iperf_alone,
        "ping_p95_added_beside_ms": pct(p_beside, 95) - base_ms,
        # iperf3 counts payload; the router counts Ethernet frames (1514 per 1448 payload bytes)
        "its_share_beside": max(0.0, during * 8 / link_bps - mbit * 1e6 * 1514 / 1448 / link_bps),
        "recovery_s": recovery,
        "total_s": tl["done"] - tl["first"],
    }


def yield_table(out_dir):
    """Recomputes a yield run's table from its logs (timelines.json, the rx, ping and iperf3 logs)."""
    timelines = json.load(open(os.path.join(out_dir, "timelines.json")))
    rx = yield_read_rx(os.path.join(out_dir, "logs", "yield-rx.log"))
    pings = yield_pings(os.path.join(out_dir, "logs", "ping.log"))
    meta = json.load(open(os.path.join(out_dir, "yield-meta.json")))
    return [yield_row(tl, rx, pings, meta["link_bps"], meta["iperf_alone"], meta["base_ms"]) for tl in timelines]


def bench_yield(run):
    a = run.args
    size = parse_size(a.size)
    link_bps = parse_rate(a.down)
    patch_dir = os.path.join(run.work, "patch")
    os.makedirs(patch_dir, exist_ok=True)
    patch = os.path.join(patch_dir, "patch.bin")
    make_patch(patch, size)
    digest = sha256(patch)
    subprocess.run([TESTBED, "down"], capture_output=True)
    r = subprocess.run([TESTBED, "up", "--sites", "1", "--hosts", str(a.hosts), "--down", a.down, "--up", a.up,
                        "--rtt", a.rtt, "--buffer", a.buffer], capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("testbed up failed: " + (r.stderr or r.stdout).strip())
    run.testbed_up = True
    log(r.stdout.strip())
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    rx_log = yield_sampler(run)
    ping_log = os.path.join(run.out, "logs", "ping.log")
    run.bg("ping", ["ping", "-D", "-i", "0.2", DC_IP], ns=host_ns(1, 1))
    run.bg("iperf3-server", ["iperf3", "-s"], ns=host_ns(1, 1))
    time.sleep(10)  # the idle ping: the base RTT
    base_ms = pct([r for (ts, r) in yield_pings(ping_log)], 50)
    log(f"idle ping p50 {base_ms:.1f} ms")
    _, _, iperf_alone = yield_iperf(run, "alone")
    log(f"iperf3 alone: {iperf_alone:.2f} Mbit/s")
    names = [("seed", "dc")] + [(f"s1-h{h}-a1", "site-1") for h in range(1, a.hosts + 1)]
    timelines = []
    for system in a.systems.split(","):
        log(f"== {system}")
        if system == "patchmesh":
            if not os.path.exists(os.path.join(run.work, "keys", "root.pb")):
                run.pm_identities(names)
            timelines.append(yield_one(run, "patchmesh (wan-yield: ledbat)", rx_log,
                                       lambda: yield_start_patchmesh(run, a.hosts, patch_dir, "ledbat", "ledbat", 7700)))
        elif system == "patchmesh-off":
            if not os.path.exists(os.path.join(run.work, "keys", "root.pb")):
                run.pm_identities(names)
            timelines.append(yield_one(run, "patchmesh (wan-yield: off)", rx_log,
                                       lambda: yield_start_patchmesh(run, a.hosts, patch_dir, "off", "off", 7710)))
        elif system == "aria2":
            timelines.append(yield_one(run, "aria2+opentracker", rx_log, lambda: yield_start_aria2(run, a.hosts, patch)))
        elif system == "nginx":
            timelines.append(yield_one(run, "nginx+curl", rx_log, lambda: yield_start_nginx(run, a.hosts, patch, digest)))
        else:
            raise BenchError(f"unknown system '{system}' (patchmesh, patchmesh-off, aria2, nginx)")
        log(f"{system}: done after {timelines[-1]['done'] - timelines[-1]['first']:.1f}s")
    load = os.getloadavg()
    run.close()
    rx = yield_read_rx(rx_log)
    pings = yield_pings(ping_log)
    rows = [yield_row(tl, rx, pings, link_bps, iperf_alone, base_ms) for tl in timelines]
    with open(os.path.join(run.out, "timelines.json"), "w") as f:
        json.dump(timelines, f, indent=1)
    with open(os.path.join(run.out, "yield-meta.json"), "w") as f:
        json.dump({"link_bps": link_bps, "iperf_alone": iperf_alone, "base_ms": base_ms}, f)
    notes = [f"- command: `scripts/bench yield --hosts {a.hosts} --size {a.size} --down {a.down} --up {a.up} --rtt {a.rtt} "
             f"--buffer {a.buffer} --systems {a.systems}`",
             f"- started {started}; machine: {machine()}; load average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}",
             f"- one site of {a.hosts} hosts behind {a.down} down / {a.up} up, rtt {a.rtt}, a {a.buffer} tbf buffer each way; "
             f"host 1 is the person's PC (iperf3 -C cubic from the DC, ping -i 0.2 to the DC); every host runs the system "
             f"(patchmesh agents, aria2 leechers, curl) and moves a {size} byte patch",
             f"- idle ping p50 {base_ms:.1f} ms (the base); iperf3 alone {iperf_alone:.2f} Mbit/s "
             f"(-t {YIELD_IPERF_S} -O {YIELD_OMIT_S}, received)",
             f"- per system: {YIELD_WARM_S} s after its bytes start flowing, {YIELD_ALONE_S} s alone (link_use_alone = bytes "
             f"into the site / time / link rate, Ethernet frames; ping_p95_added_alone = ping p95 then - the base), then "
             f"iperf3 for {YIELD_IPERF_S} s beside it (iperf3_kept = its Mbit/s then / alone; its_share_beside = the site's "
             f"rate then minus iperf3's, / link rate), then recovery_s = from iperf3's end until a 1-s window back at 90% "
             f"of the alone rate (nan: it finished first); total_s = first byte to last host done",
             "- goals (issue 17): iperf3_kept >= 0.9, ping_p95_added_alone_ms <= 100, link_use_alone >= 0.9, recovery_s <= 5"]
    write_table(run, rows, "Yielding to a person's download on a deep-buffered site link", notes)
    log(f"results in {run.out}")


# ---------------------------------------------------------------- cut ------
def ss_snapshot(run, sites_hosts, label):
    """`ss -tin` of every host of the cut site into logs/ss-LABEL.txt: rto, backoff, unacked per connection."""
    with open(os.path.join(run.out, "logs", f"ss-{label}.txt"), "w") as f:
        f.write(f"# {label} at {time.time():.3f}\n")
        for (s, h) in sites_hosts:
            r = run.sh(["ss", "-tin", "state", "established"], ns=host_ns(s, h), check=False)
            f.write(f"## s{s}-h{h}\n{r.stdout}\n")


def cut_rollout(run, sites, hosts, agents, admin, token, src_dir, cut_site, cut_at, cut_for, fname="patch.bin"):
    """A rollout during which `cut_site`'s WAN drops every packet from t0+cut_at for cut_for seconds.

    Returns (t0, times {(s,h,i): s}, before, after, timeline): timeline has the cut and heal instants
    and the WAN counters at each, so the bytes the cut site still lacked at the heal are known."""
    import threading
    before = run.counters(sites)
    pub = pm_publish(run, admin, token, src_dir, 1)
    t0 = time.time()
    log(f"patchmesh: published {pub['manifestId'][:12]} ({pub['chunks']} chunks); cutting s{cut_site} at +{cut_at:g}s "
        f"for {cut_for:g}s")
    env = dict(os.environ, PATCHMESH_TOKEN=token)
    waiter = run.bg("pm-rollout-v1", [PM, "rollout", "--admin", admin, "--manifest", pub["manifestId"], "--wait",
                                      "--timeout", f"{run.args.timeout}s"], ns=f"{NS}-dc", env=env)
    timeline = {"t0": t0}
    cut_hosts = [(cut_site, h) for h in range(1, hosts + 1)]

    def at(t):
        time.sleep(max(0.0, t0 + t - time.time()))

    def snapshot(label):  # in its own thread: a slow `ss` under load must not delay the heal
        threading.Thread(target=ss_snapshot, args=(run, cut_hosts, label), daemon=True).start()

    def cutter():
        try:
            at(cut_at)
            subprocess.run([TESTBED, "cut", str(cut_site)], capture_output=True, check=True)
            timeline["cut"] = time.time() - t0
            timeline["at_cut"] = run.counters(sites)
            log(f"s{cut_site} cut at +{timeline['cut']:.1f}s")
            at(cut_at + 2)
            snapshot("cut+2s")
            at(cut_at + cut_for - 1)
            snapshot("heal-1s")
            at(cut_at + cut_for)
            timeline["at_heal"] = run.counters(sites)
            subprocess.run([TESTBED, "heal", str(cut_site)], capture_output=True, check=True)
            timeline["heal"] = time.time() - t0
            log(f"s{cut_site} healed at +{timeline['heal']:.1f}s")
            for d in (2, 10):
                at(cut_at + cut_for + d)
                snapshot(f"heal+{d}s")
        except Exception as e:  # reported below: a bench that did not cut says so
            timeline["error"] = str(e)

    th = threading.Thread(target=cutter, daemon=True)
    th.start()
    series, done = [], threading.Event()

    def sampler():  # WAN bytes into every site once a second: shows an idle gap after the heal apart from a slow transfer
        while not done.is_set():
            c = run.counters(sites)
            series.append((time.time() - t0, {s: c[s][0] - before[s][0] for s in range(1, sites + 1)}))
            done.wait(1.0)

    sm = threading.Thread(target=sampler, daemon=True)
    sm.start()
    files = {k: os.path.join(d, fname) for k, (p, d) in agents.items()}
    try:
        seen = wait_files(list(files.values()), run.args.timeout, "patchmesh", [p for p, _ in agents.values()])
    finally:
        done.set()
        if "heal" not in timeline:
            subprocess.run([TESTBED, "heal", str(cut_site)], capture_output=True)
    sm.join(timeout=10)
    with open(os.path.join(run.out, "wan-series.csv"), "w") as f:
        f.write("t_s," + ",".join(f"s{s}_rx_bytes" for s in range(1, sites + 1)) + "\n")
        for t, rx in series:
            f.write(f"{t:.2f}," + ",".join(str(rx[s]) for s in range(1, sites + 1)) + "\n")
    timeline["series"] = series
    after = run.counters(sites)
    th.join(timeout=cut_at + cut_for + 30)
    if "error" in timeline:
        raise BenchError(f"cut/heal failed: {timeline['error']}")
    if "heal" not in timeline:
        raise BenchError("the link was not healed by the bench's own timeline")
    times = {k: seen[f] - t0 for k, f in files.items()}
    try:
        waiter.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise BenchError("patchmesh rollout --wait did not return after every agent applied the patch")
    run.procs.remove(waiter)
    return t0, times, before, after, timeline


def cut_link_downs(run, cut_site, hosts):
    """'link down' and 'redialling' lines of the cut site's agents (the link layer's view of the cut)."""
    out = []
    for h in range(1, hosts + 1):
        path = os.path.join(run.out, "logs", f"pm-s{cut_site}-h{h}-a1.log")
        if os.path.exists(path):
            for line in open(path, errors="replace"):
                if "link down" in line or "cannot reach" in line or "redialling" in line or "link up" in line:
                    out.append(f"s{cut_site}-h{h}: {line.strip()[:200]}")
    return out


def bench_cut(run):
    a = run.args
    size = parse_size(a.size)
    down_bps = parse_rate(a.down)
    cut_site = a.cut_site or a.sites
    if not 1 <= cut_site <= a.sites:
        raise BenchError(f"--cut-site must be 1..{a.sites}")
    patch_dir = os.path.join(run.work, "patch")
    os.makedirs(patch_dir, exist_ok=True)
    patch = os.path.join(patch_dir, "patch.bin")
    make_patch(patch, size)
    digest = sha256(patch)
    run.testbed(a.sites, a.hosts)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = os.getloadavg()
    admin, token, agents = pm_mesh(run, a.sites, a.hosts)
    t0, times, before, after, tl = cut_rollout(run, a.sites, a.hosts, agents, admin, token, patch_dir, cut_site,
                                               a.cut_at, a.cut_for)
    identical = all(sha256(os.path.join(d, "patch.bin")) == digest for (p, d) in agents.values())
    downs = cut_link_downs(run, cut_site, a.hosts)
    load_after = os.getloadavg()
    run.close()
    rows = []
    for s in range(1, a.sites + 1):
        rx = after[s][0] - before[s][0]
        last = max(v for (ss, h, i), v in times.items() if ss == s)
        row = {"site": f"s{s}" + (" (cut)" if s == cut_site else ""), "hosts": a.hosts, "last_host_s": last,
               "wan_bound_s": size * 8 / down_bps}
        if s == cut_site:
            heal = tl["heal"]
            got = (tl["at_heal"][s][0] - before[s][0]) - HDR * (tl["at_heal"][s][1] - before[s][1])
            lacked = max(0, size - got)
            need = lacked * 8 / down_bps
            at_heal = tl["at_heal"][s][0] - before[s][0]
            # the link layer's part: until the site's WAN carries bulk again (256 KiB more than at the heal)
            moving = next((t for t, rx in tl["series"] if t >= heal and rx[s] - at_heal > 256 * 1024), float("nan"))
            row.update({"after_heal_s": last - heal, "bytes_flow_after_heal_s": moving - heal,
                        "lacked_at_heal_bytes": lacked, "lacked_need_s": need,
                        "after_heal_over_need_x": (last - heal) / need if need > 0 else float("nan")})
        else:
            row.update({"after_heal_s": float("nan"), "bytes_flow_after_heal_s": float("nan"),
                        "lacked_at_heal_bytes": 0, "lacked_need_s": float("nan"),
                        "after_heal_over_need_x": float("nan")})
        row.update({"wan_in_x": rx / size, "identical": identical})
        rows.append(row)
    cut_row = rows[cut_site - 1]
    others = [r for i, r in enumerate(rows) if i != cut_site - 1]
    # the same run's uncut sites: how far this machine's load alone stretched a rollout past its WAN bound
    control = max(r["last_host_s"] / r["wan_bound_s"] for r in others) if others else float("nan")
    cut_row["uncut_last_over_bound_x"] = control
    for r in others:
        r["uncut_last_over_bound_x"] = r["last_host_s"] / r["wan_bound_s"]
    notes = [f"- command: `scripts/bench cut --sites {a.sites} --hosts {a.hosts} --size {a.size} --down {a.down} "
             f"--up {a.up} --rtt {a.rtt} --loss {a.loss} --cut-at {a.cut_at:g} --cut-for {a.cut_for:g} --cut-site {cut_site}`",
             f"- started {started}; machine: {machine()}; load before the agents started "
             f"{load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, after the rollout "
             f"{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}; agent JVM flags: {agent_flags()}",
             f"- s{cut_site} cut at +{tl['cut']:.1f}s (iptables DROP both ways in {NS}-core: no resets, no ICMP), "
             f"healed at +{tl['heal']:.1f}s; clock from the publish",
             f"- lacked_at_heal = size - payload into the site before the heal (WAN rx bytes minus {HDR} per frame; "
             f"TLS and control bytes count as payload, so this errs low and the ratio high); lacked_need_s = those "
             f"bytes at the raw --down rate; goal after_heal_over_need_x <= 1.2; uncut_last_over_bound_x = an uncut "
             f"site's last host / its WAN bound in the same run (what the machine's load alone costs)",
             f"- all {len(agents)} agents byte-identical to the patch: {identical}",
             f"- bytes_flow_after_heal_s = until the cut site's WAN carried 256 KiB more than at the heal (sampled each "
             f"second: wan-series.csv); `ss -tin` of the cut site's hosts at cut+2s, heal-1s, heal+2s, heal+10s: logs/ss-*.txt"]
    if downs:
        notes.append("- the cut site's link events (agent logs):")
        notes += [f"  - {l}" for l in downs[:40]]
    write_table(run, rows, f"Cut site heals: s{cut_site} cut {a.cut_for:g}s at +{a.cut_at:g}s "
                           f"(after heal {cut_row['after_heal_s']:.1f}s for {cut_row['lacked_need_s']:.1f}s of bytes: "
                           f"{cut_row['after_heal_over_need_x']:.2f}x)", notes)
    log(f"results in {run.out}")



def main():
    ap = argparse.ArgumentParser(prog="scripts/bench")
    ap.add_argument("kind", choices=["wan", "delta", "scale", "yield", "cut"])
    ap.add_argument("--sites", type=int, default=None)
    ap.add_argument("--hosts", type=int, default=None, help="hosts per site (default 4; cut: 3)")
    ap.add_argument("--agents", type=int, default=20, help="scale: agents per site")
    ap.add_argument("--agent-mb", type=int, default=None, help="scale: RAM budget per agent for the fit check "
                    "(default: the first wave's private memory, p90, + --serve-mb)")
    ap.add_argument("--serve-mb", type=int, default=20, help="scale: serving margin added to an agent's idle private memory")
    ap.add_argument("--wave", type=int, default=10, help="scale: agents started at once")
    ap.add_argument("--settle-cpu", type=float, default=3.0, help="scale: the next wave starts once its agents use at "
                    "most this %% of a core each (10 s window) and all started are alive at the seed")
    ap.add_argument("--wave-wait", type=int, default=300, help="scale: seconds to wait for a wave to settle, at most")
    ap.add_argument("--size", default=None)
    ap.add_argument("--edits", type=int, default=16)
    ap.add_argument("--edit-mode", choices=["mixed", "insert", "overwrite"], default="mixed",
                    help="delta: the edits' kind (mixed: half insertions, half overwrites)")
    ap.add_argument("--chunk-avg", default="default", help="delta: patchmesh's publishes' average chunk size, a comma "
                                                           "list run in turn, each in a fresh mesh (default: the default's)")
    ap.add_argument("--v1", help="delta: a real v1 file instead of random bytes (with --v2)")
    ap.add_argument("--v2", help="delta: the real v2 file")
    ap.add_argument("--down", default="20mbit")
    ap.add_argument("--up", default="10mbit")
    ap.add_argument("--rtt", default="40ms")
    ap.add_argument("--loss", default="0")
    ap.add_argument("--buffer", default="300ms", help="yield: the site link's tbf buffer")
    ap.add_argument("--systems", default=None, help="wan: nginx,bittorrent,patchmesh; yield: patchmesh,patchmesh-off,aria2,nginx")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per system")
    ap.add_argument("--cut-at", type=float, default=5.0, help="cut: seconds after the publish")
    ap.add_argument("--cut-for", type=float, default=60.0, help="cut: seconds the site's WAN drops everything")
    ap.add_argument("--cut-site", type=int, default=None, help="cut: which site (default the last)")
    ap.add_argument("--out")
    ap.add_argument("--keep-work", action="store_true", help="keep the hosts' files after a successful run")
    ap.add_argument("--no-warm", dest="warm", action="store_false", help="wan: skip the second (warm) patchmesh rollout")
    ap.add_argument("--idle", type=int, default=30, help="wan: seconds of each idle-CPU window of the agents; scale: of its one idle window")
    ap.add_argument("--settle", type=int, default=5, help="wan: seconds to wait before an idle window; scale: after the last wave, at least 10 (a long one shows idle once the JIT has settled)")
    ap.add_argument("--jfr", action="store_true", help="wan: agent s1-h1-a1 records a JFR profile into OUT/jfr/")
    ap.add_argument("--perf", action="store_true", help="wan: perf samples the machine while patchmesh runs; the agents' "
                    "CPU of each rollout by component (JIT, Java by library, TLS, SHA-256, RocksDB, kernel...) in the notes")
    ap.add_argument("--agent-config", help="wan, scale, cut: a YAML file every agent also reads (--config), e.g. "
                                           "`wan-yield: off` to compare with the shipped defaults")
    try:
        args = ap.parse_args()
    except SystemExit as e:
        raise SystemExit(2 if e.code else 0)
    defaults = {"wan": (3, "128MB"), "delta": (1, "64MB"), "scale": (5, "16MB"), "yield": (1, "64MB"), "cut": (2, "48MB")}[args.kind]
    if args.systems is None:
        args.systems = "patchmesh,patchmesh-off,aria2,nginx" if args.kind == "yield" else "nginx,bittorrent,patchmesh"
    if args.kind == "yield" and args.down == "20mbit" and "--down" not in sys.argv:
        args.down = "10mbit"
    if args.kind == "yield" and "--hosts" not in sys.argv:
        args.hosts = 2
    args.sites = args.sites or defaults[0]
    args.size = args.size or defaults[1]
    args.hosts = args.hosts or (3 if args.kind == "cut" else 4)
    if args.kind == "scale" and (args.wave < 1 or args.settle_cpu <= 0 or args.wave_wait < 10 or args.serve_mb < 0
                                 or (args.agent_mb is not None and args.agent_mb < 1) or args.agents < 1):
        print("bench: scale needs --agents >= 1, --wave >= 1, --settle-cpu > 0, --wave-wait >= 10, --serve-mb >= 0, "
              "--agent-mb >= 1", file=sys.stderr)
        raise SystemExit(2)
    if args.kind == "cut" and (args.cut_at < 0 or args.cut_for <= 0):
        print("bench: --cut-at must be >= 0 and --cut-for > 0", file=sys.stderr)
        raise SystemExit(2)
    try:
        parse_size(args.size)
        parse_rate(args.down)
        parse_rate(args.up)
    except (ValueError, BenchError):
        print(f"bench: bad --size/--down/--up", file=sys.stderr)
        raise SystemExit(2)
    if args.kind == "delta" and bool(args.v1) != bool(args.v2):
        print("bench: delta needs both --v1 and --v2, or neither", file=sys.stderr)
        raise SystemExit(2)
    run = Run(args, args.kind)

    def on_signal(sig, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sys.modules.setdefault("bench", sys.modules[__name__])  # scale_bench imports this module as `bench`
        from scale_bench import bench_scale
        {"wan": bench_wan, "delta": bench_delta, "scale": bench_scale, "yield": bench_yield,
         "cut": bench_cut}[args.kind](run)
        if not args.keep_work:
            # every host's copy of the patch: gigabytes at the default size
            shutil.rmtree(run.work, ignore_errors=True)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        print(f"bench: logs in {run.out}/logs", file=sys.stderr)
        raise SystemExit(1)
    except KeyboardInterrupt:
        print("bench: interrupted; tearing the testbed down", file=sys.stderr)
        raise SystemExit(130)
    finally:
        run.close()


if __name__ == "__main__":
    main()
