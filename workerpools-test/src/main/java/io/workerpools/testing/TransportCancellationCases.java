package io.workerpools.testing;

import static io.workerpools.testing.WorkerTransportContract.bash;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link WorkerTransportContract}. Cancellation and timeouts: the script and every process
 * it started end. Not meant to be implemented directly: extend {@link WorkerTransportContract}.
 */
interface TransportCancellationCases extends TransportContractCases {

  // ---- cancellation and timeout ----

  @Test
  default void cancellingKillsTheScriptItsChildrenAndGrandchildren() {
    WorkerTransportContract contract = transportContract();
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        contract
            .transport()
            .start(
                contract.worker(),
                bash(
                    "sleep 300 &",
                    "echo \"child=$!\"",
                    "bash -c 'sleep 300 & echo \"grandchild=$!\"; wait' &",
                    "( sleep 300 & echo \"orphan=$!\" )",
                    "wait"),
                sink);
    long child = Long.parseLong(sink.awaitValue("child", contract.patience()));
    long grandchild = Long.parseLong(sink.awaitValue("grandchild", contract.patience()));
    long orphan = Long.parseLong(sink.awaitValue("orphan", contract.patience()));
    assertThat(contract.processIsGone(grandchild))
        .as("the grandchild runs before cancel")
        .isFalse();

    exec.cancel();
    ScriptResult result = contract.await(exec);

    assertThat(result.outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(result.exitCode()).isEmpty();
    contract.awaitGone(child, "the child");
    contract.awaitGone(grandchild, "the grandchild");
    contract.awaitGone(orphan, "the orphaned grandchild");
  }

  @Test
  default void cancellingTwiceOrAfterTheEndIsHarmless() {
    WorkerTransportContract contract = transportContract();
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec = contract.transport().start(contract.worker(), bash("exit 4"), sink);
    ScriptResult result = contract.await(exec);
    exec.cancel();
    exec.cancel();
    assertThat(result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(contract.await(exec)).isEqualTo(result);
  }

  @Test
  default void aScriptThatRunsTooLongIsKilledAndReportedAsTimedOut() {
    WorkerTransportContract contract = transportContract();
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        contract
            .transport()
            .start(
                contract.worker(),
                ScriptRequest.builder(ScriptSyntax.BASH, "sleep 300 &\necho \"child=$!\"\nwait")
                    .timeout(Duration.ofSeconds(1))
                    .build(),
                sink);
    long child = Long.parseLong(sink.awaitValue("child", contract.patience()));
    ScriptResult result = contract.await(exec);
    assertThat(result.outcome()).isEqualTo(ScriptResult.Outcome.TIMED_OUT);
    assertThat(result.exitCode()).isEmpty();
    assertThat(result.message()).isNotBlank();
    contract.awaitGone(child, "the timed-out script's child");
  }
}
