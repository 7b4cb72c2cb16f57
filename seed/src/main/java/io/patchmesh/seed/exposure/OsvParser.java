package io.patchmesh.seed.exposure;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.inventory.VersionScheme;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads OSV JSON (the osv.dev schema): one entry, an array of entries, or {"vulns": [...]}. A
 * structural error (missing id, a range without type or events, a field of the wrong type) is
 * refused with the entry and field named; a version syntax this seed cannot order only marks the
 * range "not understood" (kept, never matched).
 */
public final class OsvParser {
  /** Entries per import. */
  public static final int MAX_ENTRIES = 100_000;
  static final int MAX_ID_CHARS = 128;
  static final int MAX_LIST = 10_000;

  private static final ObjectMapper JSON = new ObjectMapper();

  private OsvParser() {}

  public static List<Advisory> parse(byte[] json) throws OsvFormatException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new OsvFormatException("not JSON: " + e.getOriginalMessage().split("\n")[0]
          + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
    } catch (java.io.IOException e) {
      throw new OsvFormatException("unreadable: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new OsvFormatException("empty document");
    }
    JsonNode entries = root.isArray() ? root : root.has("vulns") ? root.get("vulns") : null;
    List<Advisory> out = new ArrayList<>();
    if (entries == null) {
      out.add(entry(root, "entry 1"));
      return out;
    }
    if (!entries.isArray()) {
      throw new OsvFormatException("field vulns: must be an array of OSV entries");
    }
    if (entries.size() > MAX_ENTRIES) {
      throw new OsvFormatException(entries.size() + " entries: at most " + MAX_ENTRIES + " per import");
    }
    for (int i = 0; i < entries.size(); i++) {
      out.add(entry(entries.get(i), "entry " + (i + 1)));
    }
    return out;
  }

  private static Advisory entry(JsonNode e, String where) throws OsvFormatException {
    if (!e.isObject()) {
      throw new OsvFormatException(where + ": not a JSON object");
    }
    String id = text(e, "id", where, true);
    if (id.isBlank() || id.length() > MAX_ID_CHARS || !id.matches("[A-Za-z0-9][A-Za-z0-9._:+-]*")) {
      throw new OsvFormatException(where + ": field id: '" + clip(id) + "' is not an advisory id");
    }
    where = where + " (" + id + ")";
    List<String> aliases = new ArrayList<>();
    for (JsonNode a : array(e, "aliases", where)) {
      if (!a.isTextual() || a.asText().isBlank() || a.asText().length() > MAX_ID_CHARS) {
        throw new OsvFormatException(where + ": field aliases: every alias must be an id string");
      }
      aliases.add(a.asText());
    }
    String severity = severity(e, where);
    String summary = e.has("summary") ? clip(e.get("summary").asText()) : "";
    List<AffectedRange> affected = new ArrayList<>();
    JsonNode aff = array(e, "affected", where);
    for (int i = 0; i < aff.size(); i++) {
      affected.add(affected(aff.get(i), where, "affected[" + i + "]"));
    }
    return new Advisory(id, aliases, severity, summary, affected, "osv");
  }

  private static String severity(JsonNode e, String where) throws OsvFormatException {
    JsonNode db = e.path("database_specific").path("severity");
    if (db.isTextual() && !Advisory.severityWord(db.asText()).equals("unknown")) {
      return Advisory.severityWord(db.asText());
    }
    String best = "unknown";
    JsonNode sev = array(e, "severity", where);
    for (int i = 0; i < sev.size(); i++) {
      JsonNode s = sev.get(i);
      if (!s.isObject() || !s.path("type").isTextual() || !s.path("score").isTextual()) {
        throw new OsvFormatException(where + ": field severity[" + i + "]: needs type and score strings");
      }
      String r = CvssV3.rating(s.get("score").asText());
      if (r != null && rank(r) > rank(best)) {
        best = r.equals("none") ? "low" : r;
      }
    }
    return best;
  }

  private static int rank(String s) {
    return Advisory.SEVERITIES.indexOf(s) == 4 ? -1 : Advisory.SEVERITIES.indexOf(s);
  }

  private static AffectedRange affected(JsonNode a, String where, String field) throws OsvFormatException {
    if (!a.isObject()) {
      throw new OsvFormatException(where + ": field " + field + ": not an object");
    }
    JsonNode pkg = a.get("package");
    if (pkg == null || !pkg.isObject()) {
      throw new OsvFormatException(where + ": field " + field + ".package: missing");
    }
    String ecosystem = text(pkg, "ecosystem", where + ": field " + field + ".package", true);
    String name = text(pkg, "name", where + ": field " + field + ".package", true);
    if (name.isBlank() || name.length() > 256) {
      throw new OsvFormatException(where + ": field " + field + ".package.name: empty or too long");
    }
    List<String> versions = new ArrayList<>();
    JsonNode vs = array(a, "versions", where);
    if (vs.size() > MAX_LIST) {
      throw new OsvFormatException(where + ": field " + field + ".versions: more than " + MAX_LIST);
    }
    for (JsonNode v : vs) {
      if (!v.isTextual()) {
        throw new OsvFormatException(where + ": field " + field + ".versions: every version must be a string");
      }
      versions.add(v.asText());
    }
    List<List<AffectedRange.Event>> ranges = new ArrayList<>();
    VersionScheme scheme = null;
    String why = null;
    JsonNode rs = array(a, "ranges", where);
    for (int i = 0; i < rs.size(); i++) {
      String rf = field + ".ranges[" + i + "]";
      JsonNode r = rs.get(i);
      if (!r.isObject()) {
        throw new OsvFormatException(where + ": field " + rf + ": not an object");
      }
      String type = text(r, "type", where + ": field " + rf, true);
      if (!List.of("ECOSYSTEM", "SEMVER", "GIT").contains(type)) {
        throw new OsvFormatException(where + ": field " + rf + ".type: '" + clip(type) + "' is not ECOSYSTEM, SEMVER or GIT");
      }
      JsonNode events = r.get("events");
      if (events == null || !events.isArray() || events.isEmpty()) {
        throw new OsvFormatException(where + ": field " + rf + ".events: missing or empty");
      }
      List<AffectedRange.Event> evs = new ArrayList<>();
      for (int k = 0; k < events.size(); k++) {
        JsonNode ev = events.get(k);
        if (!ev.isObject() || ev.size() != 1) {
          throw new OsvFormatException(where + ": field " + rf + ".events[" + k + "]: must hold exactly one of introduced, fixed, last_affected, limit");
        }
        String kind = ev.fieldNames().next();
        if (!List.of("introduced", "fixed", "last_affected", "limit").contains(kind) || !ev.get(kind).isTextual()) {
          throw new OsvFormatException(where + ": field " + rf + ".events[" + k + "]: '" + clip(kind) + "' is not introduced, fixed, last_affected or limit with a string version");
        }
        evs.add(new AffectedRange.Event(kind, ev.get(kind).asText()));
      }
      VersionScheme s = switch (type) {
        case "SEMVER" -> VersionScheme.SEMVER;
        case "ECOSYSTEM" -> ecosystemScheme(ecosystem);
        default -> null;
      };
      if (s == null) {
        why = type.equals("GIT") ? rf + ": GIT ranges name commits, not installed versions"
            : rf + ": versions of ecosystem '" + clip(ecosystem) + "' cannot be ordered here";
        continue;
      }
      String bad = AffectedRange.checkVersions(evs, s);
      if (bad != null) {
        why = rf + ": " + bad;
        continue;
      }
      if (scheme != null && scheme != s) {
        why = rf + ": mixes version schemes within one package";
        continue;
      }
      scheme = s;
      ranges.add(evs);
    }
    boolean understood = why == null;
    return new AffectedRange(ecosystem, name, scheme, understood ? ranges : List.of(), versions, understood, why);
  }

  /** The ordering of an OSV ecosystem's versions, or null if this seed has none for it. */
  static VersionScheme ecosystemScheme(String ecosystem) {
    String e = ecosystem.toLowerCase(Locale.ROOT);
    if (e.startsWith("debian") || e.startsWith("ubuntu")) {
      return VersionScheme.DPKG;
    }
    for (String rpm : List.of("red hat", "almalinux", "rocky linux", "opensuse", "suse", "mageia", "openeuler", "photon os", "fedora")) {
      if (e.startsWith(rpm)) {
        return VersionScheme.RPM;
      }
    }
    return null;
  }

  private static String text(JsonNode n, String field, String where, boolean required) throws OsvFormatException {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new OsvFormatException(where + ": field " + field + ": missing");
      }
      return "";
    }
    if (!v.isTextual()) {
      throw new OsvFormatException(where + ": field " + field + ": must be a string");
    }
    return v.asText();
  }

  private static JsonNode array(JsonNode n, String field, String where) throws OsvFormatException {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return JSON.createArrayNode();
    }
    if (!v.isArray()) {
      throw new OsvFormatException(where + ": field " + field + ": must be an array");
    }
    if (v.size() > MAX_LIST) {
      throw new OsvFormatException(where + ": field " + field + ": more than " + MAX_LIST + " items");
    }
    return v;
  }

  private static String clip(String s) {
    String c = s.length() > 200 ? s.substring(0, 200) + "..." : s;
    return c.replaceAll("\\p{Cntrl}", "?");
  }
}
