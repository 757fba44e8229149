package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the built-in worker hands its scripts from the host's environment: a host JVM (a real child
 * JVM, {@link EnvProbeMain}) holds {@code DB_PASSWORD}; its scripts, in both start modes, see it
 * only when the host asked to inherit its environment, and never when run as another user.
 */
class LocalEnvironmentTest {
  @TempDir Path dir;

  @Test
  void aSecretInTheHostsEnvironmentReachesAScriptOnlyWhenTheHostAsksAndNeverAnotherUser()
      throws Exception {
    String secret = "hunter2-" + UUID.randomUUID();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    Map<String, List<String>> seen;
    try (OtherUser other = OtherUser.create()) {
      seen = probe(secret, other.name);
    }
    List<String> cases =
        List.of(
            "default",
            "PERSISTENT_LAUNCHER",
            "SPAWN_PER_SCRIPT",
            "PERSISTENT_LAUNCHER-inherit",
            "SPAWN_PER_SCRIPT-inherit",
            "PERSISTENT_LAUNCHER-inherit-as-other-user",
            "SPAWN_PER_SCRIPT-inherit-as-other-user");
    assertThat(seen.keySet()).containsAll(cases);
    for (String c : cases) {
      List<String> lines = seen.get(c);
      assertThat(lines).as(c).anySatisfy(l -> assertThat(l).startsWith("result|EXITED 0"));
      assertThat(lines).as(c).contains("self|STEP_VAR=from-the-step");
      assertThat(lines).as(c).anySatisfy(l -> assertThat(l).startsWith("self|PATH=/"));
      boolean inherits = c.endsWith("-inherit");
      List<String> own = lines.stream().filter(l -> l.startsWith("self|")).toList();
      if (inherits) {
        assertThat(own).as(c).contains("self|DB_PASSWORD=" + secret);
      } else {
        assertThat(own).as(c).noneMatch(l -> l.contains(secret));
        assertThat(own)
            .as(c + ": only the allow-list and the step's own variables")
            .allSatisfy(
                l -> {
                  String name = l.substring("self|".length(), l.indexOf('='));
                  assertThat(
                          HostEnvironment.DEFAULT_NAMES.contains(name)
                              || name.startsWith("LC_")
                              || List.of("STEP_VAR", "PWD", "SHLVL", "OLDPWD", "_").contains(name))
                      .as("%s: %s", c, l)
                      .isTrue();
                });
      }
      if (c.startsWith("PERSISTENT_LAUNCHER") && !inherits || c.endsWith("other-user")) {
        // The process that started the script: the launcher's waiter, or the user switch.
        assertThat(lines).as(c + ": its parent").noneMatch(l -> l.contains(secret));
      }
      if (c.endsWith("other-user")) {
        assertThat(own).as(c).doesNotContain("self|HOME=" + System.getenv("HOME"));
      }
    }
  }

  private Map<String, List<String>> probe(String secret, String otherUser)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Xmx128m");
    cmd.add(EnvProbeMain.class.getName());
    cmd.add(Files.createDirectory(dir.resolve("base")).toString());
    cmd.add(otherUser);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("DB_PASSWORD", secret);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the probe JVM ended").isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    Map<String, List<String>> byCase = new TreeMap<>();
    for (String line : out.split("\n")) {
      int bar = line.indexOf('|');
      if (bar > 0) {
        byCase
            .computeIfAbsent(line.substring(0, bar), k -> new ArrayList<>())
            .add(line.substring(bar + 1));
      }
    }
    return byCase;
  }
}
