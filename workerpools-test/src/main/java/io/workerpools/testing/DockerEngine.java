package io.workerpools.testing;

import io.workerpools.container.ContainerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Docker engine the container tests use, and the small image they build on it without
 * pulling anything: a root filesystem holding a static busybox, imported as {@value #IMAGE}. A test
 * that finds no engine fails (it never skips) with a message that says how to get one. Core's
 * tests, the SSH and Tentacle modules' tests and a host's own tests use it alike.
 */
public final class DockerEngine {
  /** The test image: busybox only (no bash: scripts run with {@code sh}). */
  public static final String IMAGE = "wp-containers-busybox:1";

  /** An image no test builds, for "missing image" cases. */
  public static final String MISSING_IMAGE = "wp-containers-missing:none";

  /** An image on a registry at a closed loopback port: its pull fails without leaving loopback. */
  public static final String UNPULLABLE_IMAGE = "127.0.0.1:9/wp-containers-unpullable:1";

  private static final String HOW_TO =
      "; the execution-container tests need a running Docker engine that this user may use:"
          + " install it (Debian: sudo apt-get install docker.io busybox-static) and start it with"
          + " scripts/start-docker (dockerd --bridge=none --iptables=false), or run ./scripts/test,"
          + " which does both";

  private static volatile boolean ready;

  private DockerEngine() {}

  /** Fails the calling test unless an engine answers and the test image exists (building it). */
  public static synchronized String image() {
    if (ready) {
      return IMAGE;
    }
    Result v = run(null, "docker", "version", "--format", "{{.Server.Version}}");
    if (v.code != 0) {
      throw new AssertionError("no Docker engine answers (docker version: " + v.out + ")" + HOW_TO);
    }
    if (run(null, "docker", "image", "inspect", IMAGE).code != 0) {
      build();
    }
    ready = true;
    return IMAGE;
  }

  private static void build() {
    Path busybox = Path.of("/bin/busybox");
    if (!Files.isExecutable(busybox)) {
      busybox = Path.of("/usr/bin/busybox");
    }
    if (!Files.isExecutable(busybox)) {
      throw new AssertionError("no busybox to build the test image from" + HOW_TO);
    }
    try {
      Path dir =
          Files.createTempDirectory(
              "wp-containers-rootfs",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Path bin = Files.createDirectories(dir.resolve("rootfs/bin"));
      Files.createDirectories(dir.resolve("rootfs/tmp"));
      Files.copy(busybox, bin.resolve("busybox"));
      for (String applet : run(null, busybox.toString(), "--list").out.split("\n")) {
        if (!applet.isBlank() && !applet.equals("busybox")) {
          Files.createSymbolicLink(bin.resolve(applet.strip()), Path.of("busybox"));
        }
      }
      Path tar = dir.resolve("rootfs.tar");
      check(run(null, "tar", "-C", dir.resolve("rootfs").toString(), "-cf", tar.toString(), "."));
      check(run(null, "docker", "import", tar.toString(), IMAGE));
      run(null, "rm", "-rf", dir.toString());
    } catch (IOException e) {
      throw new AssertionError("could not build the test image " + IMAGE + ": " + e, e);
    }
  }

  private static void check(Result r) {
    if (r.code != 0) {
      throw new AssertionError("building the test image " + IMAGE + " failed: " + r.out + HOW_TO);
    }
  }

  /** The ids of every container, running or not, with this label ({@code key=value}). */
  public static List<String> containersLabelled(String label) {
    Result r = run(null, "docker", "ps", "-aq", "--filter", "label=" + label);
    if (r.code != 0) {
      throw new AssertionError("docker ps failed: " + r.out + HOW_TO);
    }
    List<String> ids = new ArrayList<>();
    for (String l : r.out.split("\n")) {
      if (!l.isBlank()) {
        ids.add(l.strip());
      }
    }
    return ids;
  }

  /** The ids of an execution's containers. */
  public static List<String> containersOf(String executionId) {
    return containersLabelled(ContainerSpec.EXECUTION_LABEL + "=" + executionId);
  }

  /** Removes an execution's containers (a test's own clean-up, whatever it asserted). */
  public static void removeContainersOf(String executionId) {
    List<String> ids = containersOf(executionId);
    if (!ids.isEmpty()) {
      List<String> cmd = new ArrayList<>(List.of("docker", "rm", "-f"));
      cmd.addAll(ids);
      run(null, cmd.toArray(new String[0]));
    }
  }

  /** A command's exit code and its merged output. */
  public record Result(int code, String out) {}

  /** Runs a command (60 s at most), merging its output. */
  public static Result run(Path dir, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(Arrays.asList(cmd)).redirectErrorStream(true);
      if (dir != null) {
        pb.directory(dir.toFile());
      }
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      Process p = pb.start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        out = in.readAllBytes();
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out: " + String.join(" ", cmd));
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      return new Result(-1, String.valueOf(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
