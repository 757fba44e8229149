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

  @Property(tries = 12)
  void argumentsAndEnvironmentValuesArriveVerbatim(
      @ForAll @Size(max = 5) List<@From("nasty") String> args, @ForAll("nasty") String envValue)
      throws Exception {
    ScriptRequest.Builder b =
        ScriptRequest.builder(
            ScriptSyntax.BASH,
            "for a in \"$@\"; do printf %s \"$a\" | base64 -w0; echo; done;"
                + " printf %s \"$WP_V\" | base64 -w0; echo");
    args.forEach(b::argument);
    b.env("WP_V", envValue);
    List<String> out = runLocally(b.build());
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
      Result res = run(r, tmp);
      assertThat(res.exit).isEqualTo(4);
      assertThat(res.out.get(0)).startsWith(tmp.toString() + "/workerpools-");
      try (Stream<Path> s = Files.list(tmp)) {
        assertThat(s).isEmpty();
      }
    } finally {
      delete(tmp);
    }
  }

  private record Result(int exit, List<String> out) {}

  private static List<String> runLocally(ScriptRequest r) throws Exception {
    Path tmp = Files.createTempDirectory("wp-bootstrap-");
    try {
      Result res = run(r, tmp);
      assertThat(res.exit).isZero();
      return res.out;
    } finally {
      delete(tmp);
    }
  }

  private static Result run(ScriptRequest r, Path tmp) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", Bootstrap.RUN_COMMAND);
    Map<String, String> env = pb.environment();
    env.put("TMPDIR", tmp.toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    String token = java.util.UUID.randomUUID().toString().replace("-", "");
    p.getOutputStream().write(Bootstrap.runInput(token, r));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the bootstrap did not finish");
    }
    return new Result(
        p.exitValue(),
        out.isEmpty()
            ? List.of()
            : List.of(out.split("\n", -1)).subList(0, out.split("\n", -1).length - 1));
  }

  private static void delete(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
