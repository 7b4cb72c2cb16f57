package io.patchmesh.errors;

/**
 * Something a user handed us is unusable: a missing or unreadable file, a
 * garbled key, a bad flag value. The CLI prints {@link #getMessage()} as one line
 * and exits 2. The message names the file or value and the problem.
 */
public class UserInputException extends RuntimeException {
  public UserInputException(String message) {
    super(message);
  }

  public UserInputException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Exit code the CLI uses for this error. */
  public int exitCode() {
    return 2;
  }
}
