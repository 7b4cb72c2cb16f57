"""scripts/bench scale: many agent JVMs on one machine (issue 15: 100, then 200 agents).

The agents of a site share one network namespace (one IP, a port each) behind the site's shaped
WAN link. They start in waves, round-robin over the sites (so a fit-check cut keeps the sites
even); before the next wave the harness waits until the seed sees every started agent alive and
the agents' CPU has settled (a JVM's start is seconds of JIT; a hundred starting at once on two
cores starve each other's membership: BENCHMARKS 12.9, 12.17). The fit check uses what an agent
really costs: its private memory (PSS and RSS count the libjvm/CDS/RocksDB pages every agent
shares), measured after every wave, plus a margin for serving (refit). Reuses scripts/lib/bench.py's
Run (processes, testbed, counters, identities).
"""
import datetime
import json
import os
import re
import subprocess
import time

import bench as B

SETTLE_S = 10  # at least, after every agent is alive, before the idle window (--settle for longer)
WINDOW_S = 10  # the CPU window of the settle check between waves
START_CPU_S = 1.5  # CPU-s a started agent has used, on average, before its wave counts as settled (a start: ~2)
PRIVATE_MB = 72  # an idle agent's private memory before anything is measured (BENCHMARKS 12.27)
PER_MEMBER_MB = 0.05  # at least this much private memory per further member (a link each; 12.27: 20 -> 30 agents +1-2 MB)
DEAD = re.compile(r"member \S+ \(\S*\) is dead")
HELLO_TIMEOUT = "handshake timed out"
LINK_DOWN = "control connection closed"
# an agent's summary of its session: chunk bytes by where they came from, and the picker's counters
COMPLETE = re.compile(r"complete in \d+ ms, (\d+) KiB over LAN, (\d+) KiB over WAN;.*siteTakeovers=(\d+)")


def mem_available_mb():
    return next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemAvailable")) // 1024


def cpu_pressure():
    """PSI "some" avg10 of the CPU (% of time some task waited for a CPU), or None."""
    try:
        return float(open("/proc/pressure/cpu").readline().split()[1].split("=")[1])
    except (OSError, IndexError, ValueError):
        return None


def fit(avail_mb, per_agent_mb):
    """How many more agents fit in 90 % of what is available."""
    return int(avail_mb * 0.9 // per_agent_mb)


class LogCounts:
    """Counts membership trouble in the agents' logs, by phase (reads each log on from where it stopped)."""

    def __init__(self, run):
        self.dir = os.path.join(run.out, "logs")
        self.offsets = {}
        self.total = {"dead": 0, "hello_timeouts": 0, "links_down": 0}

    def take(self):
        got = {k: 0 for k in self.total}
        for f in os.listdir(self.dir):
            if not f.startswith("pm-s"):
                continue
            path = os.path.join(self.dir, f)
            with open(path, "rb") as fh:
                fh.seek(self.offsets.get(f, 0))
                data = fh.read()
            cut = data.rfind(b"\n") + 1  # a half-written line is read next time
            self.offsets[f] = self.offsets.get(f, 0) + cut
            text = data[:cut].decode("utf-8", "replace")
            got["dead"] += len(DEAD.findall(text))
            got["hello_timeouts"] += text.count(HELLO_TIMEOUT)
            got["links_down"] += text.count(LINK_DOWN)
        for k in got:
            self.total[k] += got[k]
        return got


def chunks_by_site(run, sites):
    """{site: (chunk KiB over LAN, chunk KiB over WAN, site takeovers)} summed over the agents' session summaries."""
    out = {s: [0, 0, 0] for s in range(1, sites + 1)}
    d = os.path.join(run.out, "logs")
    for f in os.listdir(d):
        m = re.match(r"pm-s(\d+)-h1-a\d+\.log$", f)
        if not m or int(m.group(1)) not in out:
            continue
        for c in COMPLETE.finditer(open(os.path.join(d, f), errors="replace").read()):
            for k in range(3):
                out[int(m.group(1))][k] += int(c.group(k + 1))
    return out


def agent_cmd(run, s, i):
    w = run.work
    n = f"s{s}-h1-a{i}"
    conf = ["--config", run.args.agent_config] if getattr(run.args, "agent_config", None) else []
    return n, f"{w}/pm/apply/{n}", [B.PM, "agent", *conf, "--data", f"{w}/pm/{n}", "--trust", f"{w}/keys/root.pb",
                                    "--listen", f"{B.host_ip(s, 1)}:{7700 + i}", "--site", f"site-{s}",
                                    "--join", f"{B.DC_IP}:7700", "--apply-dir", f"{w}/pm/apply/{n}", "--tls", f"{w}/tls/{n}"]


def alive_at_seed(run, token):
    st = run.sh(["curl", "-sf", "-m", "20", "-H", f"Authorization: Bearer {token}", "http://127.0.0.1:7701/api/v1/status"],
                ns=f"{B.NS}-dc", check=False)
    if st.returncode != 0:
        return -1
    try:
        return sum(1 for m in json.loads(st.stdout).get("members", []) if m.get("state") == "alive")
    except ValueError:
        return -1


def agents_cpu_pct(agents, newest, secs):
    """% of one core the agents used together over secs, and the newest ones each on average (/proc/PID/stat)."""
    c0, n0, t = B.agents_cpu_s(agents), B.agents_cpu_s(newest), time.time()
    time.sleep(secs)
    dt = time.time() - t
    return 100.0 * (B.agents_cpu_s(agents) - c0) / dt, 100.0 * (B.agents_cpu_s(newest) - n0) / dt / max(1, len(newest))


def private_mb(agents):
    return [B.proc_pss_kb(p.pid)[1] / 1024 for p, _ in agents.values()]


def refit(a, sites, per_site, agents, history):
    """The fit check after a wave, from what the running agents cost now: (agents per site to run, note).

    Every wave it starts again from the count asked for (--agents per site), so a cut made early, on
    few agents, is raised back once the measurements allow it. An agent costs its private memory (the
    mean of the running agents: the machine pays the sum), which grows with the members it links to:
    the growth per further member from the mean three waves back (the first waves' growth is the JVMs'
    own warm-up, not members), at least PER_MEMBER_MB; plus --serve-mb for serving, for every agent.
    New agents cost mean + growth + margin each, running ones growth + margin, against 90 % of
    MemAvailable (which has the running agents' memory out already)."""
    privs = private_mb(agents)
    mean = sum(privs) / len(privs)
    history.append((len(agents), mean))
    slope = PER_MEMBER_MB
    if len(history) >= 4 and len(agents) > history[-4][0]:
        slope = max(PER_MEMBER_MB, (mean - history[-4][1]) / (len(agents) - history[-4][0]))
    avail = mem_available_mb()
    running = len(agents)
    started_per_site = max(i for _, _, i in agents)

    def need(ps):
        more = max(0, sites * ps - running)
        return more * (mean + slope * more + a.serve_mb) + running * (slope * more + a.serve_mb)

    fits = a.agents
    while fits > started_per_site and need(fits) > 0.9 * avail:
        fits -= 1
    note = (f"after {running} agents: private mean {mean:.0f} MB (p90 {B.pct(privs, 90):.0f}), + {slope:.2f} MB per "
            f"further member, + {a.serve_mb} MB serving margin; {sites} x {a.agents} needs {need(a.agents):.0f} MB more, "
            f"90 % of MemAvailable is {0.9 * avail:.0f} MB")
    B.log(f"scale: fit: {note}")
    if fits < a.agents:
        B.log(f"scale: cut to {sites} x {fits}: {sites} x {a.agents} would need {need(a.agents):.0f} MB more "
              f"({sites * a.agents - running} new agents x {mean + slope * (sites * a.agents - running) + a.serve_mb:.0f} MB, "
              f"{running} running x {slope * (sites * a.agents - running) + a.serve_mb:.0f} MB growth and serving) "
              f"> 90 % of MemAvailable {0.9 * avail:.0f} MB; {sites} x {fits} needs {need(fits):.0f} MB")
    elif per_site < a.agents:
        B.log(f"scale: fit: raised back to {sites} x {a.agents} (was {sites} x {per_site})")
    return fits, note


def start_mesh(run, sites, per_site, counts):
    """Seed, then agents in waves with the settle check and the fit check; returns (token, agents, waves, per_site, fit notes)."""
    a = run.args
    names = [("seed", "dc")] + [(f"s{s}-h1-a{i}", f"site-{s}") for s in range(1, sites + 1) for i in range(1, per_site + 1)]
    B.log(f"patchmesh: keys, trust root, CA and {len(names)} node certificates")
    run.pm_identities(names)
    w = run.work
    seed = run.bg("pm-seed", [B.PM, "seed", "--data", f"{w}/pm/seed", "--trust", f"{w}/keys/root.pb",
                              "--listen", f"{B.DC_IP}:7700", "--site", "dc", "--admin", "127.0.0.1:7701",
                              "--tls", f"{w}/tls/seed"], ns=f"{B.NS}-dc",
                  env=dict(os.environ, PATCHMESH_JAVA_OPTS="-Xmx256m -XX:+UseSerialGC -Xss512k"))
    token = run.pm_seed_token(seed, f"{w}/pm/seed")
    # round-robin over the sites, up to the count asked for (the fit check may cut it and raise it back)
    order = [(s, i) for i in range(1, max(per_site, a.agents) + 1) for s in range(1, sites + 1)]
    agents, waves, fitnote, history = {}, [], "", []
    t_start = time.time()
    env = dict(os.environ)
    while len(agents) < sites * per_site:
        wave = order[len(agents):min(len(agents) + a.wave, sites * per_site)]
        t_wave = time.time()
        for s, i in wave:
            n, apply_dir, cmd = agent_cmd(run, s, i)
            agents[(s, 1, i)] = (run.bg(f"pm-{n}", cmd, ns=B.host_ns(s, 1), env=env), apply_dir)
        # settle: every started agent alive at the seed, and the wave's JVMs past their start (JIT, TLS set-up):
        # each at most --settle-cpu % of a core on average
        newest = {(s, 1, i): agents[(s, 1, i)] for s, i in wave}
        alive, cpu, cpu_new, started_s, settled = -1, float("nan"), float("nan"), 0.0, False
        while time.time() - t_wave < a.wave_wait:
            dead = [p.bench_name for p, _ in agents.values() if p.poll() is not None]
            if dead:
                raise B.BenchError(f"patchmesh agents exited: {', '.join(dead[:5])} (see logs/)")
            cpu, cpu_new = agents_cpu_pct(agents, newest, WINDOW_S)
            alive = alive_at_seed(run, token)
            # a starved JVM uses little CPU because it gets little: the wave must also have done its start's work
            started_s = B.agents_cpu_s(newest) / len(newest)
            if alive >= len(agents) + 1 and cpu_new <= a.settle_cpu and started_s >= START_CPU_S:
                settled = True
                break
        load = os.getloadavg()
        got = counts.take()
        row = {"t_s": round(time.time() - t_start), "started": len(agents), "alive_at_seed": alive,
               "wave_s": round(time.time() - t_wave), "settled": settled, "agents_cpu_pct": round(cpu, 1),
               "wave_cpu_pct_each": round(cpu_new, 2), "wave_cpu_s_each": round(started_s, 2),
               "load1": round(load[0], 1), "cpu_psi_some10": cpu_pressure(), "mem_available_mb": mem_available_mb(),
               "dead_lines": got["dead"], "hello_timeouts": got["hello_timeouts"], "links_down": got["links_down"]}
        waves.append(row)
        B.log(f"scale: wave {len(waves)}: {len(agents)} started, {alive - 1} alive at the seed after {row['wave_s']}s "
              f"({'settled' if settled else 'NOT settled'}: the wave {cpu_new:.1f}% of a core each, {started_s:.1f} CPU-s each "
              f"since its start, all agents {cpu:.0f}%, "
              f"load {load[0]:.0f}); "
              f"dead lines {got['dead']}, Hello timeouts {got['hello_timeouts']}")
        if not a.agent_mb and len(agents) < sites * a.agents:
            per_site, fitnote = refit(a, sites, per_site, agents, history)
    run.alive = waves[-1]["alive_at_seed"]
    run.join_s = time.time() - t_start
    return token, agents, waves, per_site, fitnote


def bench_scale(run):
    a = run.args
    size = B.parse_size(a.size)
    avail_mb = mem_available_mb()
    # up front only what is clearly too many; the waves' measurements decide the rest (start_mesh)
    per_agent = a.agent_mb or (PRIVATE_MB + a.serve_mb)
    fit0 = fit(avail_mb, per_agent)
    per_site = a.agents
    if fit0 < a.sites * a.agents:
        per_site = max(1, fit0 // a.sites)
        B.log(f"scale: {a.sites * a.agents} agents x ~{per_agent} MB would not fit in 90 % of {avail_mb} MB available; "
              f"running {a.sites} x {per_site}")
    patch_dir = os.path.join(run.work, "patch")
    os.makedirs(patch_dir, exist_ok=True)
    B.make_patch(os.path.join(patch_dir, "patch.bin"), size)
    digest = B.sha256(os.path.join(patch_dir, "patch.bin"))
    run.testbed(a.sites, 1)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    counts = LogCounts(run)
    token, agents, waves, per_site, fitnote = start_mesh(run, a.sites, per_site, counts)
    n = len(agents)
    admin = "http://127.0.0.1:7701"
    join = counts.take()
    join = {k: join[k] + sum(w[{"dead": "dead_lines"}.get(k, k)] for w in waves) for k in join}
    B.log(f"patchmesh: seed + {n} agents started in {run.join_s:.0f}s, {run.alive - 1} alive at the seed")
    settle_s, idle_s = max(SETTLE_S, a.settle), a.idle
    time.sleep(settle_s)
    load_idle = os.getloadavg()
    idle_pct = B.idle_window(agents, idle_s)
    alive_idle = alive_at_seed(run, token)
    idle_rss = [B.proc_rss_kb(p.pid) / 1024 for p, _ in agents.values()]
    idle_pss = [B.proc_pss_kb(p.pid) for p, _ in agents.values()]
    idle = counts.take()
    B.log(f"scale: idle {idle_pct:.2f}% of a core per agent over {idle_s}s (load {load_idle[0]:.1f}); "
          f"RSS p50 {B.pct(idle_rss, 50):.0f} MB, max {max(idle_rss):.0f} MB; private p50 "
          f"{B.pct([m[1] / 1024 for m in idle_pss], 50):.0f} MB; {alive_idle - 1} alive at the seed")
    t0, times, before, after, pub, ro, pub_s = B.pm_rollout(run, a.sites, agents, admin, token, patch_dir, 1)
    rollout = counts.take()
    alive_end = alive_at_seed(run, token)
    rss = [B.proc_rss_kb(p.pid) / 1024 for p, _ in agents.values()]
    serving_pss = [B.proc_pss_kb(p.pid) for p, _ in agents.values()]
    heaps = []
    for p, _ in list(agents.values())[:: max(1, n // 10)]:
        j = B.java_pid(p.pid)
        if j:
            heaps.append(B.heap_used_mb(j))
    for p, d in agents.values():
        if B.sha256(os.path.join(d, "patch.bin")) != digest:
            raise B.BenchError("scale: an agent holds a wrong patch")
    row, wan = B.summarize("patchmesh", a.sites, size, B.parse_rate(a.down), t0, dict(times), before, after)
    load_end = os.getloadavg()
    run.close()  # the agents log their session summaries as they stop
    chunks = chunks_by_site(run, a.sites)
    out = {
        "agents": n, "sites": a.sites, "join_s": run.join_s, "alive_at_seed": f"{run.alive}/{n + 1}",
        "idle_cpu_pct_per_agent": idle_pct, "idle_rss_p50_mb": B.pct(idle_rss, 50), "idle_rss_max_mb": max(idle_rss),
        "idle_pss_p50_mb": B.pct([m[0] / 1024 for m in idle_pss], 50),
        "idle_private_p50_mb": B.pct([m[1] / 1024 for m in idle_pss], 50),
        "idle_private_max_mb": max(m[1] for m in idle_pss) / 1024,
        "idle_pss_all_mb": sum(m[0] for m in idle_pss) / 1024,
        "p50_s": row["p50_s"], "p99_s": row["p99_s"], "last_s": row["last_host_s"], "wan_bound_s": row["wan_bound_s"],
        "wan_in_max_per_site_x": row["wan_in_max_per_site_x"], "wan_in_mean_per_site_x": row["wan_in_mean_per_site_x"],
        "rss_p50_mb": B.pct(rss, 50), "rss_max_mb": max(rss),
        "pss_p50_mb": B.pct([m[0] / 1024 for m in serving_pss], 50),
        "private_p50_mb": B.pct([m[1] / 1024 for m in serving_pss], 50),
        "private_max_mb": max(m[1] for m in serving_pss) / 1024, "pss_all_mb": sum(m[0] for m in serving_pss) / 1024,
        "heap_used_max_mb": max(h[0] for h in heaps) if heaps else float("nan"),
        "heap_committed_max_mb": max(h[1] for h in heaps) if heaps else float("nan"),
        "dead_lines_join_idle_rollout": f"{join['dead']}/{idle['dead']}/{rollout['dead']}",
        "hello_timeouts_join_idle_rollout": f"{join['hello_timeouts']}/{idle['hello_timeouts']}/{rollout['hello_timeouts']}",
        "links_down_join_idle_rollout": f"{join['links_down']}/{idle['links_down']}/{rollout['links_down']}",
        "alive_at_seed_idle_end": f"{alive_idle}/{alive_end}",
        "chunks_over_wan_max_per_site_x": max(c[1] for c in chunks.values()) * 1024 / size,
    }
    with open(os.path.join(run.out, "waves.csv"), "w") as f:
        f.write(",".join(waves[0]) + "\n")
        for w in waves:
            f.write(",".join(str(v) for v in w.values()) + "\n")
    notes = [f"- command: `scripts/bench scale --sites {a.sites} --agents {a.agents} --size {a.size} --down {a.down} "
             f"--up {a.up} --rtt {a.rtt} --wave {a.wave} --settle-cpu {a.settle_cpu} --wave-wait {a.wave_wait} "
             f"--settle {settle_s} --idle {idle_s} "
             + (f"--agent-mb {a.agent_mb}" if a.agent_mb else f"--serve-mb {a.serve_mb}") + f"`; agent JVM flags: {B.agent_flags()}",
             f"- started {started}; machine: {B.machine()}; MemAvailable before the run {avail_mb} MB",
             f"- fit check: up front 90 % of MemAvailable / {per_agent:.0f} MB per agent = {fit0} agents"
             + (f"; {fitnote}" if fitnote else "") + f"; ran {a.sites} x {per_site}",
             f"- waves of {a.wave}, round-robin over the sites; the next starts once all started are alive at the seed and "
             f"the wave's agents have used >= {START_CPU_S} CPU-s each and use <= {a.settle_cpu}% of a core each over {WINDOW_S}s, "
             f"or after {a.wave_wait}s; one row a wave in "
             f"waves.csv (load, CPU pressure, dead-member lines and Hello timeouts during the wave)",
             f"- idle: {settle_s}s after the last wave, CPU of every agent JVM over {idle_s}s "
             f"(/proc/PID/stat; load {load_idle[0]:.1f}/{load_idle[1]:.1f}/{load_idle[2]:.1f}), % of one core per agent",
             f"- rollout: published {pub_s:.1f}s, then p50/p99/last = time until an agent held the verified patch; "
             f"load at the end {load_end[0]:.1f}/{load_end[1]:.1f}/{load_end[2]:.1f}",
             f"- memory: RSS from /proc; PSS and private (Private_Clean + Private_Dirty) from smaps_rollup: RSS counts the "
             f"pages all agents share (libjvm, CDS, RocksDB's library) in every agent; *_all_mb = the sum of PSS; heap "
             f"(jcmd GC.heap_info) on {len(heaps)} agents",
             "- membership trouble: lines in the agents' logs, join/idle/rollout: \"member ... is dead\", Hello "
             "\"handshake timed out\", \"control connection closed\"",
             "- WAN bytes into each site (wan0 rx, frames incl. headers: chunks, and the control plane's "
             "TLS handshakes and membership), MB (x patch): "
             + ", ".join(f"site {s} {wan[s][0] / 1e6:.1f} ({wan[s][0] / size:.3f} x)" for s in sorted(wan)),
             "- chunk bytes the agents of each site got over the WAN (their session summaries: pieces from other "
             "sites and the seed), x patch, and the picker's site takeovers: "
             + ", ".join(f"site {s} {c[1] * 1024 / size:.3f} x ({c[2]} takeovers)" for s, c in sorted(chunks.items()))]
    B.write_table(run, [out], f"Scale: {n} agents in {a.sites} sites", notes)
    B.plot(run, {f"patchmesh ({n} agents)": list(times.values())}, f"{n} agents, {size >> 20} MiB", bound=row["wan_bound_s"])
