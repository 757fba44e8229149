package io.workerpools.testing;

import static io.workerpools.testing.WorkerTransportContract.bash;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.testing.WorkerTransportContract.Run;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.SensitiveMasker;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link WorkerTransportContract}. Sensitive values never reach the sink: masked on both
 * streams, however they are written. Not meant to be implemented directly: extend {@link
 * WorkerTransportContract}.
 */
interface TransportMaskingCases extends TransportContractCases {

  // ---- masking ----

  @Test
  default void sensitiveValuesAreMaskedOnBothStreamsEvenWhenWrittenInTwoParts() {
    WorkerTransportContract contract = transportContract();
    String secret = "s3cr3t-Pa55w0rd";
    Run r =
        contract.run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    String.join(
                        "\n",
                        "echo \"whole=$WP_SECRET\"",
                        "echo \"stderr=$WP_SECRET\" >&2",
                        "printf 'split=%s' \"${WP_SECRET:0:6}\"",
                        "sleep 0.2",
                        "printf '%s\\n' \"${WP_SECRET:6}\"",
                        "echo done"))
                .sensitiveEnv("WP_SECRET", secret)
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout())
        .containsExactly("whole=" + SensitiveMasker.MASK, "split=" + SensitiveMasker.MASK, "done");
    assertThat(r.sink.stderr()).containsExactly("stderr=" + SensitiveMasker.MASK);
    assertThat(r.sink.lines()).noneSatisfy(l -> assertThat(l.text()).contains(secret));
  }

  @Test
  default void aSecretSplitAcrossWritesIsMaskedOnStderrToo() {
    WorkerTransportContract contract = transportContract();
    String secret = "Spl1t-acr0ss-wr1tes";
    Run r =
        contract.run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    String.join(
                        "\n",
                        "printf 'err=%s' \"${S:0:5}\" >&2",
                        "sleep 0.2",
                        "printf '%s' \"${S:5:7}\" >&2",
                        "sleep 0.2",
                        "printf '%s\\n' \"${S:12}\" >&2"))
                .sensitiveEnv("S", secret)
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stderr()).containsExactly("err=" + SensitiveMasker.MASK);
    assertThat(r.sink.lines()).noneSatisfy(l -> assertThat(l.text()).contains(secret));
  }

  @Test
  default void aSecretInsideALongerWordIsMaskedAndTheRestOfTheWordKept() {
    WorkerTransportContract contract = transportContract();
    String secret = "inW0rd-s3cret";
    Run r =
        contract.run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "echo \"prefix${S}suffix\"\necho \"${S}${S}\"\necho \"x${S}\" >&2")
                .sensitiveEnv("S", secret)
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout())
        .containsExactly(
            "prefix" + SensitiveMasker.MASK + "suffix",
            SensitiveMasker.MASK + SensitiveMasker.MASK);
    assertThat(r.sink.stderr()).containsExactly("x" + SensitiveMasker.MASK);
  }

  /**
   * A transport that cuts long lines into pieces must never cut inside a sensitive value: each
   * piece is masked on its own, and the second half of a cut secret would escape the mask. The cut
   * is found by printing a long line (so a transport's own limit is used, whatever it is), then a
   * secret is printed so that the cut falls one, seven and all but one characters into it.
   */
  @Test
  default void aSecretStraddlingTheCutOfALongLineIsMasked() {
    WorkerTransportContract contract = transportContract();
    Run probe = contract.run(bash("head -c 300000 /dev/zero | tr '\\0' x; echo"));
    assertThat(probe.result.exitCode()).hasValue(0);
    int cut = probe.sink.stdout().get(0).getBytes(StandardCharsets.UTF_8).length;
    String secret = "str4ddle-T0ken-9f8e7d";
    for (int offset : List.of(1, 7, secret.length() - 1)) {
      Run r =
          contract.run(
              ScriptRequest.builder(
                      ScriptSyntax.BASH,
                      "head -c "
                          + (cut - offset)
                          + " /dev/zero | tr '\\0' x; printf '%s\\n' \"$S\"; echo after")
                  .sensitiveEnv("S", secret)
                  .build());
      assertThat(r.result.exitCode()).hasValue(0);
      for (String t : r.sink.stdout()) {
        for (int k = 0; k + 5 <= secret.length(); k++) {
          assertThat(t)
              .as("no 5 characters of the secret (cut %d, offset %d)", cut, offset)
              .doesNotContain(secret.substring(k, k + 5));
        }
      }
      assertThat(String.join("", r.sink.stdout()))
          .isEqualTo("x".repeat(cut - offset) + SensitiveMasker.MASK + "after");
    }
  }
}
