package io.patchmesh.admin;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One authenticated admin API request, fully read (bodies are bounded by the
 * route's limit, {@link AdminRouter}).
 */
public record AdminRequest(
    String method,
    String path,
    Map<String, List<String>> query,
    Map<String, String> pathParams,
    byte[] body) {

  public Optional<String> queryParam(String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  public String pathParam(String name) {
    String v = pathParams.get(name);
    if (v == null) {
      throw new IllegalStateException("route has no path parameter " + name);
    }
    return v;
  }

  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  AdminRequest withPathParams(Map<String, String> params) {
    return new AdminRequest(method, path, query, params, body);
  }
}
