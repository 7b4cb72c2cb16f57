package io.patchmesh.seed.cluster;

import io.patchmesh.errors.UserInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A ZooKeeper connect string as an operator writes it:
 * {@code HOST:PORT[,HOST:PORT...][/chroot/path]}. Checked here, strictly, so
 * a typo fails at start with one line naming it (exit 2) instead of a client
 * that retries an impossible address forever.
 *
 * @param hosts host:port pairs
 * @param chroot the path all of this cluster's znodes live under ("" = the root)
 */
public record ZkConnectString(List<String> hosts, String chroot) {
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\\[[0-9A-Fa-f:.]{2,45}\\]");
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]{1,100}");

  public ZkConnectString {
    hosts = List.copyOf(hosts);
  }

  /** What the ZooKeeper client is given. */
  public String text() {
    return String.join(",", hosts) + chroot;
  }

  /** @throws UserInputException naming the option, the text and what is wrong with it */
  public static ZkConnectString parse(String option, String text) {
    if (text == null || text.isBlank()) {
      throw bad(option, text, "expected HOST:PORT[,HOST:PORT...][/path]");
    }
    String t = text.trim();
    String chroot = "";
    int slash = t.indexOf('/');
    if (slash >= 0) {
      chroot = t.substring(slash);
      t = t.substring(0, slash);
      String[] segs = chroot.substring(1).split("/", -1);
      for (String s : segs) {
        if (!SEGMENT.matcher(s).matches() || s.equals(".") || s.equals("..") || s.equals("zookeeper")) {
          throw bad(option, text, "chroot path '" + chroot + "' must be /segment[/segment...] of letters, digits, '.', '_', '-'");
        }
      }
    }
    List<String> hosts = new ArrayList<>();
    for (String part : t.split(",", -1)) {
      String p = part.trim();
      int colon = p.lastIndexOf(':');
      if (colon <= 0) {
        throw bad(option, text, "'" + p + "' is not HOST:PORT");
      }
      String host = p.substring(0, colon);
      String port = p.substring(colon + 1);
      if (!HOST.matcher(host).matches()) {
        throw bad(option, text, "'" + host + "' is not a host name or address");
      }
      int n;
      try {
        n = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        throw bad(option, text, "port '" + port + "' is not a number");
      }
      if (n < 1 || n > 65535) {
        throw bad(option, text, "port " + n + " is not between 1 and 65535");
      }
      hosts.add(host + ":" + n);
    }
    if (hosts.size() > 64) {
      throw bad(option, text, "more than 64 servers");
    }
    return new ZkConnectString(hosts, chroot);
  }

  private static UserInputException bad(String option, String text, String why) {
    return new UserInputException(option + " '" + text + "': " + why);
  }
}
