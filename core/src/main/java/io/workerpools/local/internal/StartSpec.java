package io.workerpools.local.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to start: {@code argv} (an absolute executable path first) in {@code directory}, with
 * exactly {@code environment}; {@code killLeftovers}: signal the script's process group when it
 * exits, so that background jobs it left do not outlive it.
 */
public record StartSpec(
    Path directory, List<String> argv, Map<String, String> environment, boolean killLeftovers) {
  public StartSpec {
    Objects.requireNonNull(directory, "directory");
    argv = List.copyOf(argv);
    environment = Map.copyOf(environment);
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must not be empty");
    }
  }
}
