package io.patchmesh.inventory;

import io.patchmesh.proto.InstalledPackage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An installed-software list: package name to version, sorted by name, immutable. Its digest is
 * SHA-256 over the sorted {@code name\0version\n} lines, so agent and seed agree on it after any
 * sequence of deltas exactly when they hold the same list.
 */
public final class SoftwareList {
  public static final SoftwareList EMPTY = new SoftwareList(new TreeMap<>());

  private final SortedMap<String, String> packages;
  private byte[] digest;

  private SoftwareList(SortedMap<String, String> packages) {
    this.packages = Collections.unmodifiableSortedMap(packages);
  }

  public static SoftwareList of(Map<String, String> packages) {
    return new SoftwareList(new TreeMap<>(packages));
  }

  public SortedMap<String, String> packages() {
    return packages;
  }

  public int size() {
    return packages.size();
  }

  public String version(String name) {
    return packages.get(name);
  }

  public synchronized byte[] digest() {
    if (digest == null) {
      digest = digestOf(packages);
    }
    return digest.clone();
  }

  static byte[] digestOf(SortedMap<String, String> packages) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (Map.Entry<String, String> e : packages.entrySet()) {
      md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(e.getValue().getBytes(StandardCharsets.UTF_8));
      md.update((byte) '\n');
    }
    return md.digest();
  }

  /** What turns {@code this} into {@code next}: packages added or changed, names removed. */
  public Delta deltaTo(SoftwareList next) {
    List<InstalledPackage> upserts = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    for (Map.Entry<String, String> e : next.packages.entrySet()) {
      if (!e.getValue().equals(packages.get(e.getKey()))) {
        upserts.add(InstalledPackage.newBuilder().setName(e.getKey()).setVersion(e.getValue()).build());
      }
    }
    for (String name : packages.keySet()) {
      if (!next.packages.containsKey(name)) {
        removed.add(name);
      }
    }
    return new Delta(upserts, removed);
  }

  /** This list with {@code d} applied. */
  public SoftwareList apply(Delta d) {
    TreeMap<String, String> m = new TreeMap<>(packages);
    for (String r : d.removed()) {
      m.remove(r);
    }
    for (InstalledPackage p : d.upserts()) {
      m.put(p.getName(), p.getVersion());
    }
    return new SoftwareList(m);
  }

  /** Adds and removes between two generations. */
  public record Delta(List<InstalledPackage> upserts, List<String> removed) {
    public Delta {
      upserts = List.copyOf(upserts);
      removed = List.copyOf(removed);
    }

    public int size() {
      return upserts.size() + removed.size();
    }

    /** Concatenation: this, then {@code later} (later wins for the same name). */
    public Delta then(Delta later) {
      TreeMap<String, String> up = new TreeMap<>();
      java.util.TreeSet<String> rm = new java.util.TreeSet<>(removed);
      for (InstalledPackage p : upserts) {
        up.put(p.getName(), p.getVersion());
      }
      for (String r : later.removed) {
        up.remove(r);
        rm.add(r);
      }
      for (InstalledPackage p : later.upserts) {
        up.put(p.getName(), p.getVersion());
        rm.remove(p.getName());
      }
      List<InstalledPackage> ups = new ArrayList<>();
      up.forEach((n, v) -> ups.add(InstalledPackage.newBuilder().setName(n).setVersion(v).build()));
      return new Delta(ups, new ArrayList<>(rm));
    }
  }
}
