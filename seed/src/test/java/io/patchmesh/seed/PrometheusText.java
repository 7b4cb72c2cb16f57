package io.patchmesh.seed;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4):
 * every line is a HELP or TYPE comment or a sample, every sample belongs to a
 * family declared by a TYPE line, and values are numbers. Throws on anything else.
 */
final class PrometheusText {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"");
  private static final Pattern SAMPLE =
      Pattern.compile(
          "(" + NAME + ")(\\{(?:" + LABEL + "(?:," + LABEL + ")*,?)?\\})? "
              + "([-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))( -?[0-9]+)?");

  private PrometheusText() {}

  /** Series (name plus label text) to value. */
  static Map<String, Double> parse(String text) {
    Map<String, Double> out = new LinkedHashMap<>();
    Set<String> families = new HashSet<>();
    int n = 0;
    for (String line : text.split("\n", -1)) {
      n++;
      if (line.isEmpty()) {
        continue;
      }
      Matcher m;
      if ((m = TYPE.matcher(line)).matches()) {
        families.add(m.group(1));
      } else if (HELP.matcher(line).matches()) {
        // fine
      } else if ((m = SAMPLE.matcher(line)).matches()) {
        String name = m.group(1);
        String family = name.replaceAll("_(total|count|sum|bucket|created)$", "");
        if (!families.contains(name) && !families.contains(family)) {
          throw new AssertionError("line " + n + ": sample of undeclared family: " + line);
        }
        String v = m.group(3);
        double value = v.endsWith("Inf") ? (v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY) : Double.parseDouble(v);
        out.put(name + (m.group(2) == null ? "" : m.group(2)), value);
      } else {
        throw new AssertionError("line " + n + " is not Prometheus text exposition: " + line);
      }
    }
    return out;
  }

  /** Sum of every series of {@code name}, whatever its labels. */
  static double sum(Map<String, Double> series, String name) {
    double s = 0;
    for (Map.Entry<String, Double> e : series.entrySet()) {
      String k = e.getKey();
      if (k.equals(name) || k.startsWith(name + "{")) {
        s += e.getValue();
      }
    }
    return s;
  }
}
