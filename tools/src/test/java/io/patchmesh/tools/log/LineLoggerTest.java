package io.patchmesh.tools.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class LineLoggerTest {
  @Test
  void logJsonWritesOneParseableObjectPerEvent() throws Exception {
    PrintStream saved = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      LogFormat.useJson(true);
      LoggerFactory.getLogger("io.patchmesh.x.Thing").info("link up: {} \"quoted\"\nnext", "abc");
      LoggerFactory.getLogger("io.netty.Noisy").info("hidden below warn");
    } finally {
      LogFormat.useJson(false);
      System.setErr(saved);
    }
    String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");
    assertEquals(1, lines.length, "one line per event, netty info filtered");
    JsonNode n = new ObjectMapper().readTree(lines[0]);
    assertEquals("INFO", n.path("level").asText());
    assertEquals("Thing", n.path("logger").asText());
    assertEquals("link up: abc \"quoted\"\nnext", n.path("msg").asText());
    assertTrue(n.has("ts"));
  }
}
