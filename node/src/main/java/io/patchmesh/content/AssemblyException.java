package io.patchmesh.content;

import java.io.IOException;

/**
 * {@link FileAssembler} refused or failed to materialize a file: an unsafe path,
 * a symlinked or non-directory parent, or content that does not match the
 * manifest. The message names the file and the reason in one line. When this is
 * thrown, the file's previous content (if any) is untouched.
 */
public class AssemblyException extends IOException {
  public AssemblyException(String message) {
    super(message);
  }
}
