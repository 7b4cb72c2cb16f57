package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
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

  @Test
  void parsesTerseOutputOnly() {
    assertTrue(MeteredReader.parse("GENERAL.METERED:yes\n"));
    assertFalse(MeteredReader.parse("Error: Device 'x' not found.\n"));
    assertFalse(MeteredReader.parse(""));
  }
}
