package io.patchmesh.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Whether an interface is metered: listed in the config ({@code metered-interfaces}), or
 * NetworkManager says so ({@code nmcli -t -f GENERAL.METERED dev show IFACE} prints
 * {@code GENERAL.METERED:yes}, {@code yes (guessed)}, {@code no}, {@code no (guessed)} or
 * {@code unknown}; yes and yes-guessed count). Without NetworkManager (the command cannot start)
 * only the configured list counts, and the command is not tried again. The command is
 * injectable so a test can stand in for nmcli with a script. Blocking: call off the node loop.
 */
public final class MeteredReader {
  private static final long TIMEOUT_MILLIS = 3000;
  private static final int MAX_OUTPUT = 4096;

  private final InterfacePatterns configured;
  private final List<String> nmcli;
  private boolean nmcliMissing;

  /**
   * @param configured interfaces that are metered whatever NetworkManager says
   * @param nmcli the command prefix to run ("nmcli"), to which {@code -t -f GENERAL.METERED dev show
   *     IFACE} is appended; empty = do not ask NetworkManager
   */
  public MeteredReader(InterfacePatterns configured, List<String> nmcli) {
    this.configured = configured;
    this.nmcli = List.copyOf(nmcli);
    this.nmcliMissing = nmcli.isEmpty();
  }

  public boolean metered(String iface, int type) {
    if (configured.matches(iface, type)) {
      return true;
    }
    if (nmcliMissing || iface.isEmpty()) {
      return false;
    }
    List<String> cmd = new ArrayList<>(nmcli);
    cmd.addAll(List.of("-t", "-f", "GENERAL.METERED", "dev", "show", iface));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    } catch (IOException e) {
      nmcliMissing = true; // no NetworkManager here
      return false;
    }
    try (InputStream in = p.getInputStream()) {
      p.getOutputStream().close();
      // the answer is one short line, far below a pipe's buffer: wait for the exit, then read
      if (!p.waitFor(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return parse(new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      p.destroy();
    }
  }

  /** nmcli's answer: a GENERAL.METERED line whose value starts with "yes". */
  static boolean parse(String output) {
    for (String line : output.split("\n")) {
      String l = line.trim();
      if (l.startsWith("GENERAL.METERED:")) {
        return l.substring("GENERAL.METERED:".length()).trim().toLowerCase(Locale.ROOT).startsWith("yes");
      }
    }
    return false;
  }
}
