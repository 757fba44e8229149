package io.workerpools.container.internal;

/** Quoting for the POSIX shell scripts the library writes. */
final class Shell {
  private Shell() {}

  /** {@code s} as one single-quoted shell word: nothing in it is expanded. */
  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /** Picks the worker's container CLI into {@code $c}, or runs {@code otherwise}. */
  static String pickCli(String otherwise) {
    return "if command -v docker >/dev/null 2>&1; then c=docker\n"
        + "elif command -v podman >/dev/null 2>&1; then c=podman\n"
        + "else "
        + otherwise
        + "\nfi\n";
  }
}
