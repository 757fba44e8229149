package io.workerpools.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The stand-in for a container engine's CLI ({@code container-cli-stand-in.sh}), written to a fresh
 * temporary directory: it runs the "container" locally and records every argv it was given.
 */
final class ContainerCliStandIn implements AutoCloseable {
  private final Path dir;
  private final Path cli;

  ContainerCliStandIn() {
    try {
      dir = Files.createTempDirectory("container-cli-stand-in");
      String script;
      try (InputStream in =
          ContainerCliStandIn.class.getResourceAsStream("/container-cli-stand-in.sh")) {
        script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      cli = dir.resolve("docker");
      Files.writeString(cli, script.replace("__STATE__", "'" + dir + "'"));
      Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The path to give {@link ContainerTransport.Builder#cli(String)}. */
  String cli() {
    return cli.toString();
  }

  /** Every argv the stand-in was called with, oldest first. */
  List<List<String>> calls() {
    List<List<String>> calls = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f :
          files.filter(p -> p.getFileName().toString().startsWith("argv.")).sorted().toList()) {
        String text = Files.readString(f, StandardCharsets.UTF_8);
        List<String> items = new ArrayList<>(List.of(text.split("\0", -1)));
        items.remove(items.size() - 1); // after the last item's terminator
        calls.add(List.copyOf(items));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return calls;
  }

  /** The calls whose first item is {@code run}. */
  List<List<String>> runs() {
    return calls().stream().filter(c -> !c.isEmpty() && c.get(0).equals("run")).toList();
  }

  @Override
  public void close() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
