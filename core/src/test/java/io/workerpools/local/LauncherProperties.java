package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Invariants of the persistent launcher's request encoding, over generated data. */
class LauncherProperties {
  private static Path base;
  private static LocalProcessTransport transport;

  @BeforeContainer
  static void start() throws IOException {
    base = Files.createTempDirectory("wp-launcher-props");
    transport =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .startMode(StartMode.PERSISTENT_LAUNCHER)
            .build();
  }

  @AfterContainer
  static void stop() throws IOException {
    transport.close();
    try (Stream<Path> all = Files.walk(base)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Shell-hostile text: quotes, $(...), backticks, globs, newlines, tabs, non-ASCII; no NUL/CR. */
  @Provide
  Arbitrary<String> hostile() {
    Arbitrary<String> pieces =
        Arbitraries.of(
            "'", "\"", "$(id)", "`id`", "${HOME}", "$1", "*", "?", "\\", "\n", "\t", " ", "--",
            "-e", "é", "漢", "😀", ";", "&", "|", "<", ">", "=", "%s", "a", "Z", "0");
    return pieces.list().ofMaxSize(8).map(l -> String.join("", l));
  }

  @Property(tries = 40)
  void argumentsAndAVariableArriveByteForByteThroughTheLauncher(
      @ForAll @Size(max = 6) List<@From("hostile") String> limited,
      @ForAll("hostile") String value) {
    CollectingSink sink = new CollectingSink();
    ScriptResult r =
        transport
            .start(
                Worker.BUILT_IN,
                ScriptRequest.builder(
                        ScriptSyntax.BASH,
                        "for a in \"$@\"; do printf '%s\\0' \"$a\"; done; printf '%s\\0' \"$STEP_VALUE\"")
                    .arguments(limited.toArray(String[]::new))
                    .env("STEP_VALUE", value)
                    .build(),
                sink)
            .result()
            .toCompletableFuture()
            .orTimeout(30, TimeUnit.SECONDS)
            .join();
    assertThat(r.exitCode()).hasValue(0);
    String out = String.join("\n", sink.stdout());
    List<String> expected = new ArrayList<>(limited);
    expected.add(value);
    assertThat(out).isEqualTo(String.join("\0", expected) + "\0");
    assertThat(transport.launcherActive()).isTrue();
  }
}
