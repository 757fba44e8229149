package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.reliability.hostile.Rig.Target;
import io.workerpools.tentacle.AgentWire;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sensitive values never reach a log sink unmasked, however the script leaks them: split across
 * writes, echoed from its arguments, in environment dumps and shell traces, across the point where
 * a long line is cut, or a multi-line secret line by line. Through the built-in worker and an
 * agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(SharedRig.class)
class SensitiveValuesTest {
  static final String SECRET = "s3cr3t-T0ken-9f8e7d";

  Rig rig;

  @BeforeAll
  void start(Rig shared) throws IOException {
    rig = shared;
  }

  private Rig.Lines run(Target target, String id, ScriptRequest request) {
    Rig.Lines lines = new Rig.Lines();
    StepResult r = rig.run(Rig.step(id + "-" + target, target, request), lines);
    assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
    Hostile.awaitUntil(Duration.ofSeconds(20), rig::idle, "the lease released");
    return lines;
  }

  private static void assertNeverUnmasked(Rig.Lines lines, String secret) {
    assertThat(lines.texts()).as("some output arrived").isNotEmpty();
    for (String t : lines.texts()) {
      assertThat(t).doesNotContain(secret);
    }
    assertThat(String.join("\n", lines.texts())).contains(SensitiveMasker.MASK);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aSecretWrittenInPiecesIsMaskedWhole(Target target) {
    String half1 = SECRET.substring(0, 7);
    String half2 = SECRET.substring(7);
    Rig.Lines lines =
        run(
            target,
            "split-writes",
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "printf 'key=%s' '"
                        + half1
                        + "'\nsleep 0.3\nprintf '%s\\n' '"
                        + half2
                        + "'\nprintf '%s' '"
                        + half1
                        + "' >&2; printf '%s\\n' '"
                        + half2
                        + "' >&2\n")
                .sensitiveValue(SECRET)
                .build());
    assertNeverUnmasked(lines, SECRET);
    assertThat(lines.texts()).contains("key=" + SensitiveMasker.MASK, SensitiveMasker.MASK);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aSecretPassedAsAnArgumentAndEchoedBackIsMasked(Target target) {
    Rig.Lines lines =
        run(
            target,
            "argument",
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "echo \"first=$1\"; echo \"all=$*\" >&2; printf '%q\\n' \"$1\"")
                .arguments(SECRET, "plain")
                .sensitiveValue(SECRET)
                .build());
    assertNeverUnmasked(lines, SECRET);
    assertThat(lines.texts()).contains("first=" + SensitiveMasker.MASK);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aSecretInTheEnvironmentStaysMaskedInEnvDumpsAndShellTraces(Target target) {
    Rig.Lines lines =
        run(
            target,
            "env-dump",
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "env\nset\ndeclare -p API_KEY\nset -x\ntrue \"$API_KEY\"\nset +x\n"
                        + "echo \"$API_KEY\" | od -c | head -3\n")
                .sensitiveEnv("API_KEY", SECRET)
                .build());
    assertNeverUnmasked(lines, SECRET);
    assertThat(lines.texts()).contains("API_KEY=" + SensitiveMasker.MASK);
  }

  /**
   * Each transport cuts a long line (the agent at 16 Ki characters, the built-in worker at 64 KiB)
   * and masks each piece, so a cut must never fall inside a secret. This row found the built-in
   * worker cutting {@code xxx...s | 3cr3t-T0ken-9f8e7d} and leaking the second piece; fixed.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aSecretStraddlingTheCutOfALongLineIsMasked(Target target) {
    int cut =
        target == Target.AGENT
            ? AgentWire.MAX_LINE_CHARS
            : LocalProcessTransport.DEFAULT_MAX_LINE_BYTES; // 'x' is one byte
    for (int offset : List.of(1, 7, SECRET.length() - 1)) {
      Rig.Lines lines =
          run(
              target,
              "straddle-" + offset,
              ScriptRequest.builder(
                      ScriptSyntax.BASH,
                      "head -c "
                          + (cut - offset)
                          + " /dev/zero | tr '\\0' x; printf '%s\\n' \"$PW\"")
                  .sensitiveEnv("PW", SECRET)
                  .build());
      for (String t : lines.texts()) {
        for (int k = 0; k + 5 <= SECRET.length(); k++) {
          assertThat(t)
              .as("no 5 characters of the secret")
              .doesNotContain(SECRET.substring(k, k + 5));
        }
      }
      assertThat(String.join("", lines.texts())).contains(SensitiveMasker.MASK);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void noLineOfAMultiLineSecretIsShown(Target target) {
    String pem =
        "-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0B\nAQEFAASCAUEwggE9AgEAAkEA\n-----END KEY-----";
    Rig.Lines lines =
        run(
            target,
            "multi-line",
            ScriptRequest.builder(ScriptSyntax.BASH, "printf '%s\\n' \"$KEY\"; echo \"$KEY\" | tac")
                .sensitiveEnv("KEY", pem)
                .build());
    for (String t : lines.texts()) {
      for (String part : pem.split("\n")) {
        assertThat(t).doesNotContain(part);
      }
    }
    assertThat(lines.texts()).hasSizeGreaterThanOrEqualTo(8);
  }
}
