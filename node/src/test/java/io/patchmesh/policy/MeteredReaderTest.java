package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeteredReaderTest {
  @TempDir Path dir;

  /** A stand-in for nmcli: answers GENERAL.METERED for the interfaces given, "no" for the rest. */
  private List<String> fakeNmcli(String meteredIface, String answer) throws Exception {
    Path script = dir.resolve("nmcli");
    Files.writeString(script, "#!/bin/sh\n"
        + "# called as: nmcli -t -f GENERAL.METERED dev show IFACE\n"
        + "if [ \"$6\" = \"" + meteredIface + "\" ]; then echo 'GENERAL.METERED:" + answer + "'; else echo 'GENERAL.METERED:no'; fi\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return List.of(script.toString());
  }

  @Test
  void networkManagerSaysYes() throws Exception {
    MeteredReader r = new MeteredReader(InterfacePatterns.none(), fakeNmcli("wwan0", "yes"));
    assertTrue(r.metered("wwan0", 1));
    assertFalse(r.metered("eth0", 1));
  }

  @Test
  void aGuessedYesCountsAndAGuessedNoDoesNot() throws Exception {
    assertTrue(new MeteredReader(InterfacePatterns.none(), fakeNmcli("wlan0", "yes (guessed)")).metered("wlan0", 1));
    assertFalse(new MeteredReader(InterfacePatterns.none(), fakeNmcli("wlan0", "no (guessed)")).metered("wlan0", 1));
    assertFalse(new MeteredReader(InterfacePatterns.none(), fakeNmcli("wlan0", "unknown")).metered("wlan0", 1));
  }

  @Test
  void configuredInterfacesAreMeteredWithoutNetworkManager() {
    MeteredReader r = new MeteredReader(InterfacePatterns.parse("metered-interfaces", List.of("wwan*", "usb0")), List.of());
    assertTrue(r.metered("wwan0", 1));
    assertTrue(r.metered("usb0", 1));
    assertFalse(r.metered("eth0", 1));
  }

  @Test
  void aMissingNmcliMeansNotMetered() {
    MeteredReader r = new MeteredReader(InterfacePatterns.none(), List.of(dir.resolve("no-such-nmcli").toString()));
    assertFalse(r.metered("wlan0", 1));
    assertFalse(r.metered("wlan0", 1)); // and it is not tried again
  }

  /** A stand-in for nmcli that logs each call and answers what the file {@code answer} holds. */
  private List<String> countingNmcli(Path answer, Path calls) throws Exception {
    Path script = dir.resolve("nmcli-counting");
    Files.writeString(script, "#!/bin/sh\necho \"$6\" >> " + calls + "\necho \"GENERAL.METERED:$(cat " + answer + ")\"\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return List.of(script.toString());
  }

  private long calls(Path calls) throws Exception {
    return Files.exists(calls) ? Files.readAllLines(calls).size() : 0;
  }

  @Test
  void asksNetworkManagerOncePerNetworkAndEveryFiveMinutes() throws Exception {
    Path answer = dir.resolve("answer");
    Path calls = dir.resolve("calls");
    Files.writeString(answer, "no");
    AtomicLong now = new AtomicLong(1_000);
    MeteredReader r = new MeteredReader(InterfacePatterns.none(), countingNmcli(answer, calls), now::get);
    int home = 0x0101a8c0;
    int hotspot = 0x010a14ac;
    for (int refresh = 0; refresh < 29; refresh++) { // ten-second refreshes for 4 min 50 s
      assertFalse(r.metered("wlan0", 1, home));
      now.addAndGet(TimeUnit.SECONDS.toNanos(10));
    }
    assertEquals(1, calls(calls));

    Files.writeString(answer, "yes"); // NetworkManager changes its mind without a network change
    now.addAndGet(TimeUnit.SECONDS.toNanos(10)); // 5 min after the first question
    assertTrue(r.metered("wlan0", 1, home));
    assertEquals(2, calls(calls));

    assertTrue(r.metered("wlan0", 1, hotspot)); // another network: asked at once
    assertEquals(3, calls(calls));
    assertTrue(r.metered("wwan0", 1, hotspot)); // another interface: asked at once
    assertEquals(4, calls(calls));
    assertTrue(r.metered("wwan0", 1, hotspot));
    assertEquals(4, calls(calls));
  }

  @Test
  void anErrorFromNmcliIsKeptLikeAnAnswer() throws Exception {
    Path calls = dir.resolve("calls");
    Path script = dir.resolve("nmcli-failing");
    Files.writeString(script, "#!/bin/sh\necho x >> " + calls + "\nexec 1>&-\nexit 1\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    MeteredReader r = new MeteredReader(InterfacePatterns.none(), List.of(script.toString()), () -> 0);
    assertFalse(r.metered("wlan0", 1, 7));
    assertFalse(r.metered("wlan0", 1, 7)); // NetworkManager not running: not asked every 10 s
    assertEquals(1, calls(calls));
  }

  @Test
  void parsesTerseOutputOnly() {
    assertTrue(MeteredReader.parse("GENERAL.METERED:yes\n"));
    assertFalse(MeteredReader.parse("Error: Device 'x' not found.\n"));
    assertFalse(MeteredReader.parse(""));
  }
}
