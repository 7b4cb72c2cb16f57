package io.patchmesh.net;

import io.netty.channel.Channel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not part of the suite (the name does not end in Test): what idle links cost the node that holds
 * them. Hubs with {@code -Dhubs} (default 10,100,1000) idle mutual-TLS links to peers that keep
 * alive by the kernel (the shipped 90 s idle timeout), and {@code -Dframes.hubs} (default 100) hubs
 * whose links keep alive with Keepalive frames (hub and peers as nodes before
 * Hello.keepalive_by_kernel, but with the one idle sweep), sit idle for {@code -Didle.seconds}
 * (default 120); prints each hub's I/O threads' CPU (schedstat ns) and wake-ups (voluntary context
 * switches) per second.
 * Run with {@code mvn -B -o -pl node -am test -Dtest=IdleLinksBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class IdleLinksBenchmark {
  @TempDir Path dir;

  private record Hub(String name, Transport transport, List<PeerLink> links) {}

  @Test
  void idleLinks() throws Exception {
    long idleSeconds = Long.getLong("idle.seconds", 120);
    try (MeshFixture mesh = new MeshFixture(dir)) {
      List<Hub> hubs = new ArrayList<>();
      for (String n : System.getProperty("hubs", "10,100,1000").split(",")) {
        if (!n.isBlank()) {
          hubs.add(hub(mesh, "h" + n.trim(), Integer.parseInt(n.trim()), false));
        }
      }
      for (String n : System.getProperty("frames.hubs", "100").split(",")) {
        if (!n.isBlank()) {
          hubs.add(hub(mesh, "f" + n.trim(), Integer.parseInt(n.trim()), true));
        }
      }
      Thread.sleep(35_000); // every link's first Keepalive period after the handshakes
      List<long[]> t0 = new ArrayList<>();
      for (Hub h : hubs) {
        t0.add(sample(h.name()));
      }
      Thread.sleep(idleSeconds * 1000);
      for (int i = 0; i < hubs.size(); i++) {
        Hub h = hubs.get(i);
        long[] t1 = sample(h.name());
        long open = h.links().stream().filter(PeerLink::isOpen).count();
        System.out.printf("BENCH idle links %s: %d links open, I/O threads %.4f %% of a core, %.2f wake-ups/s over %d s%n",
            h.name(), open, (t1[0] - t0.get(i)[0]) / 1e7 / idleSeconds, (t1[1] - t0.get(i)[1]) / (double) idleSeconds, idleSeconds);
      }
    }
  }

  private Hub hub(MeshFixture mesh, String name, int peers, boolean frames) throws Exception {
    Transport hub = mesh.tls(name, "hq", null, c -> c.eventLoopThreads(2).keepaliveFrames(frames));
    List<PeerLink> links = new ArrayList<>();
    for (int i = 0; i < peers; i++) {
      Transport peer = mesh.tls(name + "p" + i, "hq", null, c -> c.keepaliveFrames(frames));
      peer.connect(hub.boundAddress()).get(60, TimeUnit.SECONDS);
    }
    // under load a few dials may still be settling (duplicates resolved, a late refusal): take what is up
    int[] last = {-1};
    org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(5)).until(() -> {
      int now = hub.links().size();
      boolean stable = now == last[0];
      last[0] = now;
      return now == peers || stable;
    });
    links.addAll(hub.links());
    System.out.printf("BENCH hub %s: %d of %d links up%n", name, links.size(), peers);
    // name the hub's I/O threads (the native name too) so /proc/self/task can tell them apart
    for (PeerLink l : links) {
      for (Channel c : l.data() == null ? List.of(l.control()) : List.of(l.control(), l.data())) {
        CompletableFuture.runAsync(() -> {
          if (!Thread.currentThread().getName().startsWith(name + "-io")) {
            Thread.currentThread().setName(name + "-io" + Thread.currentThread().getId());
          }
        }, c.eventLoop()).get();
      }
    }
    return new Hub(name, hub, links);
  }

  /** ns on CPU and voluntary context switches of this process's threads named NAME-io*. */
  private static long[] sample(String name) throws Exception {
    long ns = 0;
    long wakeups = 0;
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        String comm = Files.readString(t.resolve("comm")).trim();
        if (!comm.startsWith(name + "-io")) {
          continue;
        }
        ns += Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split(" ")[0]);
        for (String line : Files.readAllLines(t.resolve("status"))) {
          if (line.startsWith("voluntary_ctxt_switches")) {
            wakeups += Long.parseLong(line.split("\\s+")[1]);
          }
        }
      }
    }
    return new long[] {ns, wakeups};
  }
}
