package io.patchmesh.tools.log;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** A logger that writes one line per event to stderr, plain or JSON (see {@link LogFormat}). */
final class LineLogger extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;
  private final String shortName;
  private final int floor;

  LineLogger(String name) {
    this.name = name;
    this.shortName = name.substring(name.lastIndexOf('.') + 1);
    // Netty is chatty below warn; its warnings still matter
    this.floor = name.startsWith("io.netty") ? 3 : 0;
  }

  private boolean on(int level) {
    return level >= Math.max(floor, LogFormat.threshold());
  }

  @Override
  public boolean isTraceEnabled() {
    return on(0);
  }

  @Override
  public boolean isDebugEnabled() {
    return on(1);
  }

  @Override
  public boolean isInfoEnabled() {
    return on(2);
  }

  @Override
  public boolean isWarnEnabled() {
    return on(3);
  }

  @Override
  public boolean isErrorEnabled() {
    return on(4);
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable t) {
    String msg = MessageFormatter.basicArrayFormat(pattern, args);
    String line;
    if (LogFormat.json()) {
      StringBuilder b = new StringBuilder(128);
      b.append("{\"ts\":\"").append(Instant.now()).append("\",\"level\":\"").append(level)
          .append("\",\"logger\":");
      quote(b, shortName);
      b.append(",\"thread\":");
      quote(b, Thread.currentThread().getName());
      b.append(",\"msg\":");
      quote(b, msg);
      if (t != null) {
        b.append(",\"error\":");
        quote(b, t.toString());
        b.append(",\"stack\":");
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        quote(b, sw.toString());
      }
      line = b.append('}').toString();
    } else {
      StringBuilder b = new StringBuilder(128);
      b.append(Instant.now()).append(' ').append(level).append(' ').append(shortName).append(" - ").append(msg);
      if (t != null) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        b.append(System.lineSeparator()).append(sw.toString().stripTrailing());
      }
      line = b.toString();
    }
    PrintStream err = System.err;
    err.println(line);
  }

  /** Appends {@code s} as a JSON string. */
  static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
