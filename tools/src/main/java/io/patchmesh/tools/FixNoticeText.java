package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.proto.AffectedPackage;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.Manifest;
import io.patchmesh.seed.exposure.FixNotices;

/** How inspect shows what a manifest fixes (its signed FixNotice). */
final class FixNoticeText {
  private FixNoticeText() {}

  static void toJson(ObjectNode n, Manifest m) {
    FixNotice f = m.getFixes();
    ObjectNode o = n.putObject("fixes");
    ArrayNode cves = o.putArray("cves");
    f.getCvesList().forEach(cves::add);
    o.put("severity", m.hasFixes() ? FixNotices.severityWord(f.getSeverity()) : "");
    ArrayNode affects = o.putArray("affects");
    for (AffectedPackage a : f.getAffectsList()) {
      affects.add(text(a));
    }
    o.put("urgent", f.getUrgent());
  }

  static String render(Manifest m) {
    if (!m.hasFixes()) {
      return "";
    }
    FixNotice f = m.getFixes();
    StringBuilder b = new StringBuilder("fixes:\n");
    b.append("  cves     ").append(InspectCommand.printable(String.join(", ", f.getCvesList()))).append('\n');
    b.append("  severity ").append(FixNotices.severityWord(f.getSeverity())).append(f.getUrgent() ? " (urgent)" : "").append('\n');
    for (AffectedPackage a : f.getAffectsList()) {
      b.append("  affects  ").append(InspectCommand.printable(text(a))).append('\n');
    }
    return b.toString();
  }

  private static String text(AffectedPackage a) {
    return a.getName() + (a.getInclusive() ? "<=" : "<") + a.getVersion();
  }
}
