"""`scripts/bench wan --perf`: where the agents' CPU goes during each rollout, by component.

The whole machine is sampled with `perf record -a -g` (299 Hz, wall-clock timestamps) while the
patchmesh mesh runs; the agents' JVMs run with frame pointers kept and write a perf map of their
compiled code when they exit (-XX:+DumpPerfMapAtExit), so Java frames have names. After the agents
have stopped, `perf script` is read once and every sample of an agent process inside a rollout's
window (its publish to its last host) is put into one component by the rules below (first match
wins). A sample is ~1/299 CPU-s; the table gives both, beside the cgroup's own count.

Issue 15 asked for "where every CPU-second of one agent goes, cold and warm" to be written down;
this makes it a command instead of a one-off analysis.
"""
import collections
import glob
import os
import re
import shutil
import signal
import subprocess

FREQ = 299
JVM_FLAGS = "-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer"

# the JVM's own work for code that has not run before: resolving call sites and constant pool
# entries, loading and linking classes, the compile policy's counters (frames near the leaf)
_JIT_RUNTIME = re.compile(
    r"^(InterpreterRuntime::|SharedRuntime::(resolve|handle_wrong_method)|LinkResolver::|SystemDictionary::|"
    r"ClassFileParser::|ClassLoader::|Dictionary::|SymbolTable::|InstanceKlass::(link|find|initialize|check_valid)|"
    r"Rewriter::|Verifier::|ClassVerifier::|MethodHandles::|MHN_|JVM_DefineClass|jvm_define_class|"
    r"JVM_LookupDefineClass|ConstantPool::|Method::build|CompilationPolicy::|CompileBroker::|"
    r"CompilerOracle::|DirectivesStack::|DirectiveSet::|Runtime1::(resolve|patch))")
_FILE_SYSCALLS = ("__x64_sys_pwrite", "__x64_sys_pread", "__x64_sys_fdatasync", "__x64_sys_fsync", "__x64_sys_write",
                  "__x64_sys_openat", "__x64_sys_rename", "__x64_sys_ftruncate", "__x64_sys_fallocate", "__x64_sys_unlink",
                  "__x64_sys_copy_file_range")
_SOCKET_SYSCALLS = ("__x64_sys_sendto", "__x64_sys_recvfrom", "__x64_sys_sendmsg", "__x64_sys_recvmsg",
                    "__x64_sys_writev", "__x64_sys_readv", "__x64_sys_read", "__x64_sys_setsockopt")
_WAIT_SYSCALLS = ("__x64_sys_epoll", "__x64_sys_futex", "__x64_sys_timerfd", "__x64_sys_nanosleep",
                  "__x64_sys_clock_nanosleep", "__x64_sys_sched_yield")
_DIRECT_BUFFERS = ("java.nio.DirectByteBuffer.<init>", "jdk.internal.misc.Unsafe.setMemory",
                   "java.nio.DirectByteBuffer$Deallocator.run", "io.netty.buffer.UnpooledDirectByteBuf.<init>",
                   "io.netty.util.internal.PlatformDependent.allocateDirect")
_STUBS = ("vtable chunks", "itable", "I2C/C2I adapters", "StubRoutines", "Runtime1 stub", "slow_subtype_check")

# the table's order
COMPONENTS = [
    "JIT: compiling (compiler threads)", "JIT: interpreted code", "JIT: linking, class loading, compile policy",
    "JIT: call stubs and adapters",
    "Java: patchmesh", "Java: protobuf", "Java: Netty", "Java: JDK", "Java: other",
    "direct buffers (allocate, zero, free)", "TLS (BoringSSL)", "SHA-256 (libcrypto)", "RocksDB",
    "libc (malloc, memcpy)", "JVM runtime: other", "VM thread (GC, safepoints)",
    "kernel: socket I/O", "kernel: file I/O", "kernel: waiting, waking", "kernel: page faults",
    "kernel: interrupts, softirq, other", "other native",
]


def _symbol(frame):
    """'addr sym+0xoff (dso)' -> (sym, dso)."""
    parts = frame.strip().split(None, 1)
    if len(parts) < 2:
        return "?", "?"
    rest = parts[1]
    m = re.search(r"\s\(([^()]*)\)\s*$", rest)
    dso = m.group(1) if m else "?"
    sym = rest[:m.start()] if m else rest
    return re.sub(r"\+0x[0-9a-f]+$", "", sym.strip()), dso


def _java_owner(sym):
    """'void io.x.Y.m(int)' -> 'io.x.Y.m' (compiled Java frames in a perf map), else ''."""
    head = sym.split("(", 1)[0]
    return head.rsplit(" ", 1)[-1] if "(" in sym else ""


def classify(thread, frames):
    """One sample (thread name, [(sym, dso)] leaf first) -> a component of COMPONENTS."""
    syms = [s for s, _ in frames]
    leaf, dso = frames[0] if frames else ("?", "?")
    if thread.startswith(("C1 CompilerThre", "C2 CompilerThre")):
        return "JIT: compiling (compiler threads)"
    if thread.startswith("VM Thread") or thread.startswith("GC "):
        return "VM thread (GC, safepoints)"
    if leaf.startswith("Interpreter"):
        return "JIT: interpreted code"
    if any(_JIT_RUNTIME.match(s) for s in syms[:12]):
        return "JIT: linking, class loading, compile policy"
    if "tcnative" in dso:
        return "TLS (BoringSSL)"
    if "libcrypto" in dso:
        return "SHA-256 (libcrypto)"
    if "rocksdb" in dso:
        return "RocksDB"
    if "kernel" in dso:
        if any(s.startswith(_FILE_SYSCALLS) for s in syms):
            return "kernel: file I/O"
        if any(s.startswith(_SOCKET_SYSCALLS) for s in syms):
            return "kernel: socket I/O"
        if any(s.startswith(_WAIT_SYSCALLS) for s in syms):
            return "kernel: waiting, waking"
        if any(s.startswith("asm_exc_page_fault") for s in syms):
            return "kernel: page faults"
        return "kernel: interrupts, softirq, other"
    if any(_java_owner(s).startswith(_DIRECT_BUFFERS) for s in syms[:10]) or leaf in ("Unsafe_FreeMemory0", "Unsafe_AllocateMemory0"):
        return "direct buffers (allocate, zero, free)"
    if "perf-" in dso:
        if leaf.startswith(_STUBS) or "stub" in leaf.lower() or "adapter" in leaf:
            return "JIT: call stubs and adapters"
        owner = _java_owner(leaf)
        if owner.startswith(("com.google.protobuf.", "io.patchmesh.proto.")):
            return "Java: protobuf"
        if owner.startswith("io.patchmesh."):
            return "Java: patchmesh"
        if owner.startswith("io.netty."):
            return "Java: Netty"
        if owner.startswith(("java.", "javax.", "jdk.", "sun.")):
            return "Java: JDK"
        return "Java: other"
    if "libjvm" in dso:
        return "JVM runtime: other"
    if os.path.basename(dso).startswith("libc.so"):
        return "libc (malloc, memcpy)"
    return "other native"


def _thread_group(thread):
    if thread.startswith("pm-loop"):
        return "node loop"
    if thread.startswith("pm-work"):
        return "workers"
    if thread.startswith(("C1 CompilerThre", "C2 CompilerThre")):
        return "compiler"
    if thread.startswith("VM Thread"):
        return "VM thread"
    return "other threads"


class PerfRecording:
    """perf record -a over the patchmesh part of a bench run, and the components of its windows."""

    def __init__(self, out_dir):
        if shutil.which("perf") is None:
            raise RuntimeError("--perf needs perf (Debian: apt-get install linux-perf)")
        self.dir = out_dir
        self.data = os.path.join(out_dir, "perf.data")
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "perf-record.log"), "w")
        self.proc = subprocess.Popen(["perf", "record", "-a", "-g", "-F", str(FREQ), "-k", "CLOCK_REALTIME",
                                      "-o", self.data], stdout=log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def components(self, pids, windows):
        """{label: (Counter component -> samples, Counter thread group -> samples)} for (label, t0, t1) windows."""
        pids = {str(p) for p in pids}
        out = {label: (collections.Counter(), collections.Counter()) for label, _, _ in windows}
        script = subprocess.Popen(["perf", "script", "-i", self.data, "-F", "comm,pid,tid,time,ip,sym,dso"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
        header, frames = None, []

        def flush():
            m = re.match(r"\s*(\S.*?)\s+(\d+)/(\d+)\s+(?:\[\d+\]\s+)?([\d.]+):", header or "")
            if not m or m.group(2) not in pids:
                return
            ts = float(m.group(4))
            for label, t0, t1 in windows:
                if t0 <= ts <= t1:
                    comp, threads = out[label]
                    comp[classify(m.group(1), [_symbol(f) for f in frames])] += 1
                    threads[_thread_group(m.group(1))] += 1

        for line in script.stdout:
            if not line.strip():
                flush()
                header, frames = None, []
            elif header is None:
                header = line
            else:
                frames.append(line)
        flush()
        script.wait()
        return out

    def report(self, pids, windows, cgroup_cpu):
        """Markdown lines for the results' notes; also written to OUT/perf-components.md."""
        if not os.path.isfile(self.data) or os.path.getsize(self.data) == 0:
            return [f"- `--perf`: perf recorded nothing (see {os.path.join(self.dir, 'perf-record.log')})"]
        found = self.components(pids, windows)
        labels = [label for label, _, _ in windows]
        head = "| component | " + " | ".join(f"{label}: CPU-s, share" for label in labels) + " |"
        lines = [f"- the agents' CPU by component over each rollout (`--perf`: `perf record -a -g -F {FREQ}`, the "
                 f"agents with `{JVM_FLAGS}`; a sample = 1/{FREQ} CPU-s; also in perf-components.md):", "",
                 head, "|---|" + "---|" * len(labels)]
        totals = {label: sum(found[label][0].values()) for label in labels}

        def row(name, table, key):
            """One line: the samples of {key} in table 0 (components) or 1 (thread groups) of each window."""
            return f"| {name} | " + " | ".join(
                f"{found[label][table][key] / FREQ:.2f}, {100 * found[label][table][key] / max(1, totals[label]):.1f} %"
                for label in labels) + " |"

        lines += [row(comp, 0, comp) for comp in COMPONENTS if any(found[label][0][comp] for label in labels)]
        lines.append("| **all samples** (the cgroup's count of agents + seed) | "
                     + " | ".join(f"**{totals[label] / FREQ:.2f}** ({cgroup_cpu.get(label, float('nan')):.2f})"
                                  for label in labels) + " |")
        lines += [row(f"thread: {group}", 1, group) for group in ("node loop", "workers", "compiler", "VM thread", "other threads")]
        lines.append("")
        with open(os.path.join(self.dir, "perf-components.md"), "w") as f:
            f.write("\n".join(lines[2:]) + "\n")
        return lines

    def cleanup(self, pids):
        """The perf maps the agents wrote into /tmp (perf.data stays in the results, a binary file)."""
        for pid in pids:
            for path in glob.glob(f"/tmp/perf-{pid}.map"):
                try:
                    os.remove(path)
                except OSError:
                    pass
