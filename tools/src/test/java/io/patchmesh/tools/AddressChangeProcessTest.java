package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A laptop whose address changes mid-transfer, with real processes (issue 17, "transfers resume
 * across address changes"): a seed and a {@code site: auto} agent as separate JVMs over mutual
 * TLS. The agent reads its LAN below its own {@code policy-root} (default route, ARP, and its own
 * address from {@code proc/net/fib_trie}, as on Linux), listens on the wildcard address and tells
 * peers its address on that LAN: 127.0.0.2 (the whole of 127/8 reaches the host, so both
 * addresses are real and dialable without root). With part of a large patch held, its address
 * becomes 127.0.0.3 (a new DHCP lease on the same LAN: what re-plumbing a testbed namespace does).
 * The agent restarts its mesh part in the same site: a new listener (new port), links redialled;
 * the seed's member list then shows it at 127.0.0.3 only — the old address gone, not beside it —
 * and the transfer finishes from what it held: byte-identical, no chunk fetched twice.
 */
class AddressChangeProcessTest {
  private static final int FILE_BYTES = 6 * 1024 * 1024;

  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  /** A LAN 127.0.0.0/8 via gateway 127.0.0.254, this machine at {@code local} on it. */
  static void lanWithAddress(Path root, String local) throws Exception {
    SiteAutoProcessTest.lan(root, "lo", "FE00007F", "0000007F", "000000FF", "127.0.0.254", "52:54:00:cc:00:03");
    Path trie = root.resolve("proc/net/fib_trie");
    Path next = root.resolve("proc/net/fib_trie.tmp");
    Files.writeString(next, "Main:\n  +-- 127.0.0.0/8 2 0 2\n     |-- 127.0.0.0\n        /8 host LOCAL\n"
        + "     |-- " + local + "\n        /32 host LOCAL\n");
    Files.move(next, trie, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The seed's member entries for site {@code site}: their address lists. */
  static List<List<String>> addressesAtSeed(String admin, String token, String site) {
    Cli.Result st = Cli.run("status", "--admin", admin, "--token-file", token, "--json");
    List<List<String>> out = new ArrayList<>();
    if (st.code() != 0) {
      return out;
    }
    for (JsonNode m : st.json().path("members")) {
      if (m.path("site").asText().equals(site) && m.path("state").asText().equals("alive")) {
        List<String> a = new ArrayList<>();
        m.path("addresses").forEach(x -> a.add(x.asText()));
        out.add(a);
      }
    }
    return out;
  }

  /** Every admin URL the agent printed, in order (one per start of its mesh part). */
  static List<String> adminUrls(Path log) throws Exception {
    List<String> out = new ArrayList<>();
    if (Files.exists(log)) {
      Matcher m = NodeProcesses.ADMIN.matcher(Files.readString(log));
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  @Test
  void aLaptopWhoseAddressChangesMidTransferIsFoundAtTheNewOneAndFinishes() throws Exception {
    SeedProcess seed = SeedProcess.start(nodes, tmp);
    String admin = seed.admin;
    String token = seed.token;
    Path tls = seed.issue("laptop", "auto");

    Path facts = tmp.resolve("facts");
    lanWithAddress(facts, "127.0.0.2");
    Path cfg = tmp.resolve("laptop.yaml");
    Files.writeString(cfg, "site: auto\n"
        + "discovery-port: " + SiteAutoProcessTest.freeUdpPort() + "\n"
        + "discovery-interface: lo\n"
        + "policy-root: " + facts + "\n"
        + "metered: ignore\n"
        + "battery-min-upload-percent: 0\n");
    Path log = tmp.resolve("laptop.log");
    nodes.spawn(log, seed.agentArgs(tmp.resolve("laptop"), tmp.resolve("apply"), tls,
        "--config", cfg.toString(), "--listen", "0.0.0.0:0", "--download-rate", "8mbit"));
    String site = NodeProcesses.awaitLine(log, java.util.regex.Pattern.compile("site (lan-[0-9a-f]{12}) \\(discovered\\)"));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
        .until(() -> addressesAtSeed(admin, token, site).size() == 1);
    List<String> before = addressesAtSeed(admin, token, site).get(0);
    assertEquals(1, before.size(), before.toString());
    assertTrue(before.get(0).matches("127\\.0\\.0\\.2:[1-9]\\d*"), "advertised on the LAN it found, with its port: " + before);
    AdminClient first = new AdminClient(adminUrls(log).get(0), tmp.resolve("laptop/admin.token"));

    Path v1 = tmp.resolve("v1");
    Files.createDirectories(v1);
    Files.write(v1.resolve("big.bin"), Cli.randomBytes(9, FILE_BYTES));
    long total = SeedProcess.chunkBytes(v1);
    String manifest = seed.publish(v1, 1);

    long quarter = total / 4;
    double[] heldAtChange = new double[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> (heldAtChange[0] = SleepResumeProcessTest.metric(first, "patchmesh_chunk_bytes_received_total", "")) >= quarter);
    lanWithAddress(facts, "127.0.0.3"); // a new lease on the same LAN
    long changedAt = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> adminUrls(log).size() == 2);
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
        List<List<String>> now = addressesAtSeed(admin, token, site);
        return now.size() == 1 && now.get(0).size() == 1 && now.get(0).get(0).matches("127\\.0\\.0\\.3:[1-9]\\d*");
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      System.out.println("seed: " + Cli.run("status", "--admin", admin, "--token-file", token, "--json").out());
      System.out.println("laptop log:\n" + Files.readString(log));
      System.out.println("seed log:\n" + Files.readString(seed.log));
      throw e;
    }
    long learnedMillis = (System.nanoTime() - changedAt) / 1_000_000;
    seed.awaitRollout(manifest, "2m");
    assertArrayEquals(Files.readAllBytes(v1.resolve("big.bin")), Files.readAllBytes(tmp.resolve("apply/big.bin")));

    AdminClient second = new AdminClient(adminUrls(log).get(1), tmp.resolve("laptop/admin.token"));
    double after = SleepResumeProcessTest.metric(second, "patchmesh_chunk_bytes_received_total", "");
    double duplicates = SleepResumeProcessTest.metric(second, "patchmesh_chunks_duplicate_total", "");
    double duplicatePuts = SleepResumeProcessTest.metric(second, "patchmesh_store_duplicate_puts_lifetime", "");
    long heldBefore = total - (long) after; // the store outlives the restart and took no chunk twice (asserted below)
    List<List<String>> end = addressesAtSeed(admin, token, site);
    System.out.printf("address change: patch %d bytes; held %d when its address changed (>= %d seen before);"
        + " the seed knew the new address %d ms after the change; stored %d bytes after it; %d duplicate chunks,"
        + " %d duplicate store puts; seed's entry %s%n",
        total, heldBefore, (long) heldAtChange[0], learnedMillis, (long) after, (long) duplicates, (long) duplicatePuts, end);
    assertTrue(heldBefore >= heldAtChange[0] && after > 0, "the change came mid-transfer; the rest came after it");
    assertEquals(0, (long) duplicates, "nothing it held was fetched again");
    assertEquals(0, (long) duplicatePuts, "no chunk stored twice over both lives");
    assertEquals(1, end.size(), "one member, not one per address: " + end);
    assertFalse(end.get(0).stream().anyMatch(a -> a.startsWith("127.0.0.2:")), "the old address does not linger");
    assertTrue(Files.readString(log).contains("address on the LAN changed from 127.0.0.2 to 127.0.0.3"));
  }
}
