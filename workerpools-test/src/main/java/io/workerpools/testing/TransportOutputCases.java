package io.workerpools.testing;

import static io.workerpools.testing.WorkerTransportContract.bash;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.testing.WorkerTransportContract.Run;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link WorkerTransportContract}. A script's output: order, streaming, timestamps, long
 * lines and binary bytes. Not meant to be implemented directly: extend {@link
 * WorkerTransportContract}.
 */
interface TransportOutputCases extends TransportContractCases {

  // ---- output ----

  @Test
  default void stdoutAndStderrEachKeepTheirOrder() {
    WorkerTransportContract contract = transportContract();
    Run r =
        contract.run(
            bash(
                "for i in $(seq 1 200); do", "  echo \"out $i\"", "  echo \"err $i\" >&2", "done"));
    List<String> out = new ArrayList<>();
    List<String> err = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      out.add("out " + i);
      err.add("err " + i);
    }
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout()).containsExactlyElementsOf(out);
    assertThat(r.sink.stderr()).containsExactlyElementsOf(err);
    assertThat(r.sink.calledConcurrently()).as("the sink was called concurrently").isFalse();
  }

  @Test
  default void linesArriveWhileTheScriptStillRuns() {
    WorkerTransportContract contract = transportContract();
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        contract
            .transport()
            .start(contract.worker(), bash("echo first", "sleep 300", "echo never"), sink);
    try {
      sink.await(
          l -> l.text().equals("first"), contract.patience(), "the first line, before the end");
      assertThat(exec.result().toCompletableFuture().isDone()).isFalse();
    } finally {
      exec.cancel();
    }
    assertThat(contract.await(exec).outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(sink.stdout()).containsExactly("first");
  }

  @Test
  default void linesCarryTimestamps() {
    WorkerTransportContract contract = transportContract();
    java.time.Instant before = java.time.Instant.now().minusSeconds(60);
    Run r = contract.run(bash("echo one", "echo two >&2"));
    assertThat(r.sink.lines())
        .filteredOn(l -> l.source() != LogLine.Source.DEBUG)
        .hasSize(2)
        .allSatisfy(l -> assertThat(l.time()).isAfter(before));
  }

  @Test
  default void theResultCompletesOnlyAfterTheLastLine() {
    WorkerTransportContract contract = transportContract();
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        contract
            .transport()
            .start(
                contract.worker(), bash("for i in $(seq 1 500); do echo \"line $i\"; done"), sink);
    int seenAtCompletion =
        exec.result()
            .thenApply(r -> sink.stdout().size())
            .toCompletableFuture()
            .orTimeout(contract.patience().toMillis(), TimeUnit.MILLISECONDS)
            .join();
    assertThat(seenAtCompletion).isEqualTo(500);
  }

  @Test
  default void veryLongLinesArriveWholeOrSplitButNothingIsLost() {
    WorkerTransportContract contract = transportContract();
    int length = 300_000;
    Run r =
        contract.run(bash("head -c " + length + " /dev/zero | tr '\\0' x", "echo", "echo after"));
    assertThat(r.result.exitCode()).hasValue(0);
    List<String> out = r.sink.stdout();
    assertThat(out).last().isEqualTo("after");
    StringBuilder joined = new StringBuilder();
    for (String s : out.subList(0, out.size() - 1)) {
      joined.append(s);
    }
    assertThat(joined.length()).isEqualTo(length);
    assertThat(joined.chars().allMatch(c -> c == 'x')).isTrue();
  }

  @Test
  default void binaryAndInvalidUtf8OutputDoesNotBreakTheStream() {
    WorkerTransportContract contract = transportContract();
    Run r =
        contract.run(
            bash(
                "printf 'bin:\\000\\001\\377\\376\\200\\300end\\n'",
                "head -c 20000 /dev/urandom",
                "echo",
                "echo after-binary"));
    assertThat(r.result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout()).anySatisfy(s -> assertThat(s).startsWith("bin:").endsWith("end"));
    assertThat(r.sink.stdout()).last().isEqualTo("after-binary");
  }
}
