package io.workerpools.local.internal;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Finds executables on the host's {@code PATH}, once per name (the answer is cached). */
public final class Executables {
  private final String path;
  private final Map<String, Optional<Path>> cache = new ConcurrentHashMap<>();

  public Executables(String path) {
    this.path = path == null ? "" : path;
  }

  /** The host's {@code PATH}. */
  public static Executables fromEnvironment() {
    return new Executables(System.getenv("PATH"));
  }

  /** The executable's absolute path; an absolute or relative path given as the name is checked. */
  public Optional<Path> find(String name) {
    return cache.computeIfAbsent(name, this::lookUp);
  }

  private Optional<Path> lookUp(String name) {
    if (name.indexOf('/') >= 0) {
      Path p = Path.of(name).toAbsolutePath();
      return isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, name);
      if (isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static boolean isExecutable(Path p) {
    return Files.isRegularFile(p) && Files.isExecutable(p);
  }
}
