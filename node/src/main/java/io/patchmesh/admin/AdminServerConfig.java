package io.patchmesh.admin;

/**
 * Where the admin API listens and how much it accepts.
 *
 * @param host listen address; loopback by default so the API is not exposed
 * @param port 0 picks an ephemeral port
 * @param maxBodyBytes largest request body any route may take; each route has its own
 *     (smaller) limit too ({@link AdminRouter}), checked with the token before a body is read.
 *     A chunk upload is at most 256 KiB and a signed manifest at most 64 MiB + signatures
 * @param workerThreads handler pool size (handlers may touch the store)
 */
public record AdminServerConfig(String host, int port, int maxBodyBytes, int workerThreads) {
  public static final int DEFAULT_MAX_BODY = 65 * 1024 * 1024;

  public static AdminServerConfig loopback(int port) {
    return new AdminServerConfig("127.0.0.1", port, DEFAULT_MAX_BODY, 2);
  }

  /** Parses "host:port" as the CLI's --admin takes it. */
  public static AdminServerConfig parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new io.patchmesh.errors.UserInputException(
          "--admin " + hostPort + ": expected HOST:PORT, e.g. 127.0.0.1:7701");
    }
    try {
      int port = Integer.parseInt(hostPort.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new AdminServerConfig(hostPort.substring(0, colon), port, DEFAULT_MAX_BODY, 2);
    } catch (NumberFormatException e) {
      throw new io.patchmesh.errors.UserInputException(
          "--admin " + hostPort + ": port must be a number 0-65535");
    }
  }
}
