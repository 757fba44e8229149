package io.workerpools.tentacle.internal;

import java.nio.file.Path;

/** Test access to package-private helpers. */
public final class ScriptServiceAccess {
  private ScriptServiceAccess() {}

  public static void deleteTree(Path dir) {
    ScriptService.deleteTree(dir);
  }
}
