package io.patchmesh.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Whether an interface is metered: listed in the config ({@code metered-interfaces}), or
 * NetworkManager says so ({@code nmcli -t -f GENERAL.METERED dev show IFACE} prints
 * {@code GENERAL.METERED:yes}, {@code yes (guessed)}, {@code no}, {@code no (guessed)} or
 * {@code unknown}; yes and yes-guessed count). Without NetworkManager (the command cannot start)
 * only the configured list counts, and the command is not tried again. The command is
 * injectable so a test can stand in for nmcli with a script. Blocking: call off the node loop.
 *
 * <p>NetworkManager's answer is kept for {@link #RECHECK_NANOS} (5 min) per interface and
 * gateway: starting nmcli (a process, a D-Bus connection) at every 10 s policy refresh was the
 * largest part of an idle laptop agent's CPU. Joining another network changes the default route's
 * gateway (or its interface), which asks again at once.
 */
public final class MeteredReader {
  private static final long TIMEOUT_MILLIS = 3000;
  private static final int MAX_OUTPUT = 4096;

  /** How long NetworkManager's answer for one interface and gateway is kept. */
  static final long RECHECK_NANOS = TimeUnit.MINUTES.toNanos(5);

  private final InterfacePatterns configured;
  private final List<String> nmcli;
  private final LongSupplier nanos;
  private boolean nmcliMissing;
  private String askedIface;
  private int askedGateway;
  private long askedAt;
  private boolean answer;

  /**
   * @param configured interfaces that are metered whatever NetworkManager says
   * @param nmcli the command prefix to run ("nmcli"), to which {@code -t -f GENERAL.METERED dev show
   *     IFACE} is appended; empty = do not ask NetworkManager
   */
  public MeteredReader(InterfacePatterns configured, List<String> nmcli) {
    this(configured, nmcli, System::nanoTime);
  }

  /** @param nanos a monotonic clock in nanoseconds (tests pass their own) */
  public MeteredReader(InterfacePatterns configured, List<String> nmcli, LongSupplier nanos) {
    this.configured = configured;
    this.nmcli = List.copyOf(nmcli);
    this.nanos = nanos;
    this.nmcliMissing = nmcli.isEmpty();
  }

  /** Whether {@code iface} is metered, asking NetworkManager at most once per {@link #RECHECK_NANOS}. */
  public boolean metered(String iface, int type) {
    return metered(iface, type, 0);
  }

  /**
   * As {@link #metered(String, int)}, where {@code gateway} is the default route's gateway: a new
   * gateway on the same interface (another Wi-Fi network, a phone's hotspot) asks again at once.
   */
  public synchronized boolean metered(String iface, int type, int gateway) {
    if (configured.matches(iface, type)) {
      return true;
    }
    if (nmcliMissing || iface.isEmpty()) {
      return false;
    }
    long now = nanos.getAsLong();
    if (iface.equals(askedIface) && gateway == askedGateway && now - askedAt < RECHECK_NANOS) {
      return answer;
    }
    Boolean said = ask(iface);
    if (said == null) {
      askedIface = null; // no answer (timed out, failed): ask again at the next refresh
      return false;
    }
    answer = said;
    askedIface = iface;
    askedGateway = gateway;
    askedAt = now;
    return answer;
  }

  /** NetworkManager's answer, or null if there was none. */
  private Boolean ask(String iface) {
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
        return null;
      }
      return parse(new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
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
