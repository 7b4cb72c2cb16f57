"""Cost of each system in a field benchmark (scripts/bench wan): CPU-seconds of all of a system's
processes from a cgroup of its own, and peak RSS per process."""
import os
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cgroup_roots():
    """Where a bench may make cgroups, best first: (kind, mount point) for cgroup v2, then v1 cpuacct."""
    v2, v1 = [], []
    try:
        for line in open("/proc/mounts"):
            f = line.split()
            if f[2] == "cgroup2":
                v2.append(("cgroup2", f[1]))
            elif f[2] == "cgroup" and "cpuacct" in f[3].split(","):
                v1.append(("cpuacct", f[1]))
    except OSError:
        pass
    return v2[:1] + v1[:1]


def proc_stat(pid):
    """(utime + stime in seconds, ppid, comm) of a process, or None once it is gone."""
    try:
        raw = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1: raw.rindex(")")]
    f = raw[raw.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK, int(f[1]), comm


def proc_hwm_kb(pid):
    """Peak RSS (VmHWM, kB) of a process, or None."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class CostGroup:
    """All processes of one system: CPU-seconds and peak RSS per process.

    Each process the bench starts for the system is put (before it execs, by a `sh -c` wrapper)
    into a cgroup of its own, so everything it starts is counted too: cgroup v2 `cpu.stat`
    usage_usec, else v1 `cpuacct.usage`; where neither is writable, the sum of /proc/PID/stat
    over the process trees the bench started, sampled once a second (a process that ends between
    two samples loses its last second). Peak RSS is each process's VmHWM, read once a second and
    before the system is stopped."""

    def __init__(self, name):
        self.name, self.how, self.dir = name, "proc", None
        self.roots, self.roles, self.peak, self.ticks = {}, {}, {}, {}
        self.marks, self.proc_marks, self.mark_times = {}, {}, {}
        for kind, mnt in cgroup_roots():
            d = os.path.join(mnt, f"{os.environ.get('PATCHMESH_TESTBED_PREFIX', 'pmf')}-bench-{name}")
            try:
                os.makedirs(d, exist_ok=True)
                self.dir, self.how = d, kind
                self._read_usage()
                break
            except (OSError, ValueError):
                self.dir, self.how = None, "proc"
        self.marks["created"] = self.cpu_s()

    def _read_usage(self):
        if self.how == "cgroup2":
            for line in open(os.path.join(self.dir, "cpu.stat")):
                k, v = line.split()
                if k == "usage_usec":
                    return int(v) / 1e6
            raise ValueError("no usage_usec")
        return int(open(os.path.join(self.dir, "cpuacct.usage")).read()) / 1e9

    def wrap(self, cmd):
        if not self.dir:
            return cmd
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', os.path.join(self.dir, "cgroup.procs")] + cmd

    def track(self, p):
        self.roots[p.pid] = p
        # agents pm-s1-h2-a1 -> "pm", leechers aria2-s1-h1 -> "aria2", curl-s1-h1 -> "curl"
        name = p.bench_name
        i = name.find("-s")
        if i > 0 and name[i + 2: i + 3].isdigit():
            name = name[:i]
        self.roles[p.pid] = name

    def pids(self):
        if self.dir:
            try:
                return [int(x) for x in open(os.path.join(self.dir, "cgroup.procs")).read().split()]
            except OSError:
                return []
        kids = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                st = proc_stat(int(d))
                if st:
                    kids.setdefault(st[1], []).append(int(d))
        out, todo = [], [p for p, pr in self.roots.items() if pr.poll() is None]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, []))
        return out

    def sample(self):
        for pid in self.pids():
            st = proc_stat(pid)
            if st is None:
                continue
            self.ticks[pid] = st[0]
            hwm = proc_hwm_kb(pid)
            if hwm is not None:
                label = st[2] + (f" ({self.roles[pid]})" if pid in self.roles else "")
                old = self.peak.get(pid, (label, 0))
                self.peak[pid] = (label, max(old[1], hwm))

    def cpu_s(self):
        if self.dir:
            return self._read_usage()
        self.sample()
        return sum(self.ticks.values())

    def mark(self, name):
        self.marks[name] = self.cpu_s()
        self.mark_times[name] = time.time()
        # and each started process's own CPU (the launcher execs java, aria2c...: the started pid is the program)
        self.proc_marks[name] = {pid: (proc_stat(pid) or (None,))[0] for pid in self.roots}
        return self.marks[name]

    def by_role(self, a, b):
        """CPU-s between two marks of the started processes, by role: {role: [CPU-s of each process]}."""
        out = {}
        for pid, c1 in self.proc_marks[b].items():
            c0 = self.proc_marks[a].get(pid, 0.0)  # started after mark a: all of its CPU
            if c1 is not None and c0 is not None:
                out.setdefault(self.roles[pid], []).append(c1 - c0)
        return out

    def between(self, a, b):
        return self.marks[b] - self.marks[a]

    def rss_mb(self, programs):
        """Peak RSS (MB) of each process running one of the system's programs (not its helpers: sh, ldd...)."""
        return [kb / 1024 for label, kb in self.peak.values() if label.split()[0] in programs]

    def rss_by_label(self):
        by = {}
        for label, kb in self.peak.values():
            by.setdefault(label, []).append(kb / 1024)
        return ", ".join(f"{k} x{len(v)} p50 {sorted(v)[(len(v) - 1) // 2]:.0f} / max {max(v):.0f} MB"
                         for k, v in sorted(by.items()))

    def close(self):
        if self.dir:
            try:
                os.rmdir(self.dir)
            except OSError:
                pass


class CostSampler:
    """Samples the open CostGroups once a second in a daemon thread (peak RSS of short-lived processes)."""

    def __init__(self):
        self.groups, self.stop_ev = [], threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def add(self, g):
        self.groups.append(g)
        return g

    def _loop(self):
        while not self.stop_ev.wait(1.0):
            for g in list(self.groups):
                g.sample()

    def close(self):
        self.stop_ev.set()
        self.thread.join(timeout=5)
