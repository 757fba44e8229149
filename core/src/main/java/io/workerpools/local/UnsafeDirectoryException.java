package io.workerpools.local;

import io.workerpools.WorkerPoolsException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A directory the built-in worker would run scripts under is not safe to use: it (or a directory
 * above it) belongs to another user, is writable by other users, or is a symbolic link. Another
 * local user could then swap a step's script or files before they run. The message names the
 * directory and says how to fix it.
 */
public class UnsafeDirectoryException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;
  private final transient Path path;

  public UnsafeDirectoryException(Path path, String message) {
    super(message);
    this.path = Objects.requireNonNull(path, "path");
  }

  /** The directory that was refused. */
  public Path path() {
    return path;
  }
}
