package io.patchmesh.seed.exposure;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.AffectedPackage;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.Severity;
import java.util.List;

/** Turns publish's --fixes/--severity/--affects/--urgent into the signed {@link FixNotice}; errors name the flag. */
public final class FixNoticeSpec {
  private FixNoticeSpec() {}

  /** The notice, or the default instance when no flag was given. */
  public static FixNotice parse(List<String> cves, String severity, List<String> affects, boolean urgent) {
    FixNotice.Builder b = FixNotice.newBuilder();
    if (cves.size() > FixNotices.MAX_CVES) {
      throw new UserInputException("--fixes: at most " + FixNotices.MAX_CVES + " per manifest");
    }
    for (String c : cves) {
      if (c.length() > OsvParser.MAX_ID_CHARS || !c.matches("[A-Za-z0-9][A-Za-z0-9._:+-]*")) {
        throw new UserInputException("--fixes " + c + ": not an advisory id like CVE-2024-2511");
      }
      b.addCves(c);
    }
    if (severity != null) {
      Severity s = FixNotices.parseSeverity(severity)
          .orElseThrow(() -> new UserInputException("--severity " + severity + ": use low, medium, high or critical"));
      b.setSeverity(s);
    }
    if (affects.size() > FixNotices.MAX_AFFECTS) {
      throw new UserInputException("--affects: at most " + FixNotices.MAX_AFFECTS + " per manifest");
    }
    for (String a : affects) {
      int lt = a.indexOf('<');
      if (lt <= 0) {
        throw new UserInputException("--affects " + a + ": expected PACKAGE<VERSION or PACKAGE<=VERSION");
      }
      boolean inclusive = a.startsWith("<=", lt);
      String name = a.substring(0, lt).trim();
      String version = a.substring(lt + (inclusive ? 2 : 1)).trim();
      String why = io.patchmesh.inventory.InventoryLimits.check(name, version);
      if (why != null) {
        throw new UserInputException("--affects " + a + ": " + why);
      }
      b.addAffects(AffectedPackage.newBuilder().setName(name).setVersion(version).setInclusive(inclusive));
    }
    if ((!affects.isEmpty() || severity != null || urgent) && cves.isEmpty()) {
      throw new UserInputException("--severity, --affects and --urgent describe a fix: give --fixes CVE-ID too");
    }
    // critical fixes move first: --severity critical marks the manifest urgent
    b.setUrgent(urgent || b.getSeverity() == Severity.SEVERITY_CRITICAL);
    return b.build();
  }
}
