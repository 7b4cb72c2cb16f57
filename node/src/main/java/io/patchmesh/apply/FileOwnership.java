package io.patchmesh.apply;

import io.patchmesh.store.StateStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which channel (and version) installed each file of the apply directory, kept durably in the
 * node's state store: one record per channel ({@code owned:CHANNEL}: version, manifest id, its
 * paths) and an index of channels. A version's record is written (synced) when it commits, so
 * after any crash the record names the version whose files are in place (see {@link
 * VersionSwitch}). Paths are manifest paths: verified, so free of control characters, which lets
 * the records be newline-separated text.
 *
 * <p>Not thread-safe: the applier uses it under its directory lock.
 */
final class FileOwnership {
  private static final String INDEX = "owned-channels";
  private static final String PREFIX = "owned:";

  /** What one channel has installed. */
  record Owned(String channel, long version, String manifestId, List<String> paths) {}

  private final StateStore state;
  private final Map<String, Owned> byChannel = new HashMap<>();
  private final Map<String, String> ownerOf = new HashMap<>();

  FileOwnership(StateStore state) {
    this.state = state;
    String index = state.getString(INDEX);
    if (index != null && !index.isEmpty()) {
      for (String channel : index.split("\n")) {
        String rec = state.getString(PREFIX + channel);
        if (rec != null) {
          String[] lines = rec.split("\n", -1);
          List<String> paths = lines.length > 2 ? Arrays.asList(lines).subList(2, lines.length) : List.of();
          Owned o = new Owned(channel, Long.parseLong(lines[0]), lines[1],
              paths.stream().filter(p -> !p.isEmpty()).toList());
          put(o);
        }
      }
    }
  }

  private void put(Owned o) {
    Owned before = byChannel.put(o.channel(), o);
    if (before != null) {
      before.paths().forEach(p -> ownerOf.remove(p, o.channel()));
    }
    o.paths().forEach(p -> ownerOf.put(p, o.channel()));
  }

  /** The channel that installed {@code path}, or null. */
  String ownerOf(String path) {
    return ownerOf.get(path);
  }

  /** Every channel with installed files. */
  java.util.Collection<String> channels() {
    return byChannel.keySet();
  }

  /** What {@code channel} has installed, or null if nothing. */
  Owned of(String channel) {
    return byChannel.get(channel);
  }

  /** Records (synced) that {@code channel}'s files are now exactly {@code paths}. */
  void record(String channel, long version, String manifestId, List<String> paths) {
    StringBuilder b = new StringBuilder().append(version).append('\n').append(manifestId);
    for (String p : paths) {
      b.append('\n').append(p);
    }
    if (!byChannel.containsKey(channel)) {
      Set<String> channels = new LinkedHashSet<>(byChannel.keySet());
      channels.add(channel);
      state.putString(INDEX, String.join("\n", channels), true);
    }
    state.putString(PREFIX + channel, b.toString(), true);
    put(new Owned(channel, version, manifestId, new ArrayList<>(paths)));
  }
}
