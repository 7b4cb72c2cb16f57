package io.patchmesh.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What a handler answers: status, content type and the whole body. */
public record AdminResponse(int status, String contentType, byte[] body) {
  static final ObjectMapper JSON =
      new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  public static AdminResponse json(Object value) {
    return json(200, value);
  }

  public static AdminResponse json(int status, Object value) {
    try {
      return new AdminResponse(status, "application/json", JSON.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + value.getClass(), e);
    }
  }

  public static AdminResponse text(int status, String contentType, String body) {
    return new AdminResponse(status, contentType, body.getBytes(StandardCharsets.UTF_8));
  }

  /** An error as {"error": message}: one sentence a person can act on. */
  public static AdminResponse error(int status, String message) {
    return json(status, Map.of("error", message));
  }

  /** Thrown by handlers to answer with a client error. */
  public static final class Failure extends RuntimeException {
    private final int status;

    public Failure(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }
}
