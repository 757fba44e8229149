package io.workerpools.ssh.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The stdin framing, checked with the real bootstrap run by a local bash: whatever the arguments
 * and environment values (any characters but NUL, which POSIX strings cannot hold), the script
 * receives them verbatim, and none of them is ever interpreted by a shell.
 */
class BootstrapProperties {

  @Provide
  Arbitrary<String> nasty() {
    Arbitrary<String> anyChars =
        Arbitraries.strings().withCharRange('\u0001', '\uD7FF').ofMaxLength(12);
    Arbitrary<String> shellish =
        Arbitraries.strings()
            .withChars(" \t\n'\"$`\\;|&<>(){}[]*?!#~-=%".toCharArray())
            .withCharRange('a', 'c')
            .ofMaxLength(12);
    return Arbitraries.oneOf(anyChars, shellish);
  }

  @Property(tries = 16)
  void argumentsAndEnvironmentValuesArriveVerbatimOnBothPaths(
      @ForAll @Size(max = 5) List<@From("nasty") String> args,
      @ForAll("nasty") String envValue,
      @ForAll boolean lean)
      throws Exception {
    ScriptRequest.Builder b =
        ScriptRequest.builder(
            ScriptSyntax.BASH,
            "for a in \"$@\"; do printf %s \"$a\" | base64 -w0; echo; done;"
                + " printf %s \"$WP_V\" | base64 -w0; echo");
    args.forEach(b::argument);
    b.env("WP_V", envValue);
    List<String> out = runLocally(b.build(), lean);
    List<String> expected = new ArrayList<>(args);
    expected.add(envValue);
    List<String> decoded = new ArrayList<>();
    for (String line : out) {
      decoded.add(new String(Base64.getDecoder().decode(line), StandardCharsets.UTF_8));
    }
    assertThat(decoded).containsExactlyElementsOf(expected);
  }

  @Property(tries = 5)
  void theTemporaryDirectoryIsRemovedAfterTheScript(@ForAll("nasty") String arg) throws Exception {
    Path tmp = Files.createTempDirectory("wp-bootstrap-");
    try {
      ScriptRequest r =
          ScriptRequest.builder(ScriptSyntax.BASH, "pwd; exit 4").argument(arg).build();
      Result res = run(r, tmp, false);
      assertThat(res.exit).isEqualTo(4);
      assertThat(res.out.get(0)).startsWith(tmp.toString() + "/workerpools-");
      try (Stream<Path> s = Files.list(tmp)) {
        assertThat(s).isEmpty();
      }
    } finally {
      delete(tmp);
    }
  }

  @Property(tries = 5)
  void theLeanPathLeavesNothingBehindAndRunsInItsOwnProcessGroup(@ForAll("nasty") String arg)
      throws Exception {
    Path tmp = Files.createTempDirectory("wp-bootstrap-");
    try {
      ScriptRequest r =
          ScriptRequest.builder(
                  ScriptSyntax.BASH,
                  "read -r -a s < /proc/$$/stat; echo \"$$ ${s[4]}\"; [ -z \"$b$_wp_s$t\" ]; exit $((4 + $?))")
              .argument(arg)
              .build();
      assertThat(Bootstrap.lean(r, false)).isTrue();
      Result res = run(r, tmp, true);
      assertThat(res.exit).as("the bootstrap's variables must not reach the script").isEqualTo(4);
      String[] pidAndGroup = res.out.get(0).split(" ");
      assertThat(pidAndGroup[0])
          .as("the script is the bootstrap process itself")
          .isEqualTo(Long.toString(res.pid));
      assertThat(pidAndGroup[1]).as("and leads its own process group").isEqualTo(pidAndGroup[0]);
      assertThat(res.pgid).as("the marker names that group").isEqualTo(res.pid);
      assertThat(res.err).as("the marker is not part of the output").isEmpty();
      try (Stream<Path> s = Files.list(tmp)) {
        assertThat(s).isEmpty();
      }
    } finally {
      delete(tmp);
    }
  }

  @Property(tries = 10)
  void onlyRequestsWithoutFilesAndWithSmallBodiesTakeTheLeanPath(
      @ForAll boolean withFile, @ForAll boolean keep, @ForAll boolean always, @ForAll boolean big) {
    ScriptRequest.Builder b =
        ScriptRequest.builder(ScriptSyntax.BASH, big ? "#".repeat(Bootstrap.LEAN_MAX_BODY) : "true")
            .keepWorkingDirectory(keep);
    if (withFile) {
      b.file("f", new byte[] {1});
    }
    assertThat(Bootstrap.lean(b.build(), always)).isEqualTo(!withFile && !keep && !always && !big);
  }

  private record Result(int exit, List<String> out, long pid, long pgid, List<String> err) {}

  private static List<String> runLocally(ScriptRequest r, boolean lean) throws Exception {
    Path tmp = Files.createTempDirectory("wp-bootstrap-");
    try {
      Result res = run(r, tmp, lean);
      assertThat(res.exit).isZero();
      return res.out;
    } finally {
      delete(tmp);
    }
  }

  private static Result run(ScriptRequest r, Path tmp, boolean lean) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", Bootstrap.RUN_COMMAND);
    Map<String, String> env = pb.environment();
    env.put("TMPDIR", tmp.toString());
    Path errFile = tmp.resolveSibling(tmp.getFileName() + ".err");
    pb.redirectError(errFile.toFile());
    try {
      Process p = pb.start();
      String token = java.util.UUID.randomUUID().toString().replace("-", "");
      p.getOutputStream().write(Bootstrap.runInput(token, r, lean));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("the bootstrap did not finish");
      }
      List<String> err = lines(Files.readString(errFile));
      assertThat(err).as("stderr starts with the marker").isNotEmpty();
      long pgid = Bootstrap.pgidFromMarker(token, err.get(0));
      assertThat(pgid).as("the marker line: " + err.get(0)).isPositive();
      List<String> outLines = lines(out);
      assertThat(outLines).as("stdout starts with the marker").isNotEmpty();
      assertThat(Bootstrap.isOutMarker(token, outLines.get(0))).as(outLines.get(0)).isTrue();
      return new Result(
          p.exitValue(),
          outLines.subList(1, outLines.size()),
          p.pid(),
          pgid,
          err.subList(1, err.size()));
    } finally {
      Files.deleteIfExists(errFile);
    }
  }

  private static List<String> lines(String text) {
    if (text.isEmpty()) {
      return List.of();
    }
    String[] parts = text.split("\n", -1);
    return List.of(parts).subList(0, parts.length - 1);
  }

  private static void delete(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
