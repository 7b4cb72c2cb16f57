package io.patchmesh.admin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps method + path pattern to a handler. Patterns are '/'-separated; a
 * segment written {name} captures that segment. Routes marked public need no
 * token (static dashboard assets only). Each route has a body limit, checked
 * (like the token) before any of the body is read: {@link #SMALL_BODY_BYTES}
 * unless the route names a larger one.
 */
public final class AdminRouter {
  /** Body limit of a route that does not name one: JSON commands and queries. */
  public static final int SMALL_BODY_BYTES = 64 * 1024;

  private record Route(String method, String[] segments, AdminHandler handler, boolean open, int maxBodyBytes) {}

  /** The result of matching a request. */
  public record Match(AdminHandler handler, Map<String, String> params, boolean open, int maxBodyBytes) {}

  private final List<Route> routes = new ArrayList<>();

  public AdminRouter get(String pattern, AdminHandler handler) {
    return add("GET", pattern, handler, false, SMALL_BODY_BYTES);
  }

  public AdminRouter post(String pattern, AdminHandler handler) {
    return add("POST", pattern, handler, false, SMALL_BODY_BYTES);
  }

  /** A POST route whose bodies may be up to {@code maxBodyBytes} (an upload). */
  public AdminRouter post(String pattern, int maxBodyBytes, AdminHandler handler) {
    return add("POST", pattern, handler, false, maxBodyBytes);
  }

  public AdminRouter put(String pattern, AdminHandler handler) {
    return add("PUT", pattern, handler, false, SMALL_BODY_BYTES);
  }

  /** A PUT route whose bodies may be up to {@code maxBodyBytes} (an upload). */
  public AdminRouter put(String pattern, int maxBodyBytes, AdminHandler handler) {
    return add("PUT", pattern, handler, false, maxBodyBytes);
  }

  /** A GET route that is served without the bearer token (dashboard assets). */
  public AdminRouter openGet(String pattern, AdminHandler handler) {
    return add("GET", pattern, handler, true, SMALL_BODY_BYTES);
  }

  private AdminRouter add(String method, String pattern, AdminHandler handler, boolean open, int maxBodyBytes) {
    if (maxBodyBytes < 0) {
      throw new IllegalArgumentException("negative body limit for " + pattern);
    }
    routes.add(new Route(method, split(pattern), handler, open, maxBodyBytes));
    return this;
  }

  /** The route for this request, or null; {@code methodAllowed[0]} tells a 405 from a 404. */
  Match match(String method, String path, boolean[] pathKnown) {
    String[] parts = split(path);
    for (Route r : routes) {
      Map<String, String> params = matchSegments(r.segments, parts);
      if (params == null) {
        continue;
      }
      pathKnown[0] = true;
      if (r.method.equals(method) || (method.equals("HEAD") && r.method.equals("GET"))) {
        return new Match(r.handler, params, r.open, r.maxBodyBytes);
      }
    }
    return null;
  }

  private static Map<String, String> matchSegments(String[] pattern, String[] parts) {
    if (pattern.length != parts.length) {
      return null;
    }
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < pattern.length; i++) {
      String p = pattern[i];
      if (p.startsWith("{") && p.endsWith("}")) {
        params.put(p.substring(1, p.length() - 1), parts[i]);
      } else if (!p.equals(parts[i])) {
        return null;
      }
    }
    return params;
  }

  private static String[] split(String path) {
    String trimmed = path.replaceAll("^/+|/+$", "");
    return trimmed.isEmpty() ? new String[0] : trimmed.split("/+");
  }
}
