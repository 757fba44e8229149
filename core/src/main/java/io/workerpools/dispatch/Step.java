package io.workerpools.dispatch;

import io.workerpools.ConfigurationException;
import io.workerpools.model.StepRequirements;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One step to run: what it needs from a worker and the script it runs. Build with {@link
 * #builder(String, ScriptRequest)}.
 *
 * @param stepId the host's id of this step (shown in leases and log lines)
 * @param requirements what the step needs from a worker; its syntax is the script's, and it needs a
 *     container engine when the script names a container
 * @param script the script, as data
 * @param actionId the action this step is an invocation of; steps sharing an action id share its
 *     max parallelism
 * @param maxParallelism with an action id: how many invocations of the action may be in flight at
 *     once (leasing, running); further ones wait in order
 * @param waitForWorker how long to wait for an eligible worker when none is free now; empty: fail
 *     at once with {@link StepResult.Status#NOWHERE_TO_RUN}
 */
public record Step(
    String stepId,
    StepRequirements requirements,
    ScriptRequest script,
    Optional<String> actionId,
    OptionalInt maxParallelism,
    Optional<Duration> waitForWorker) {

  public Step {
    if (stepId == null || stepId.isBlank()) {
      throw new ConfigurationException("stepId", "must not be empty");
    }
    Objects.requireNonNull(script, "script");
    requirements =
        requirements == null
            ? StepRequirements.builder().syntax(script.syntax()).build()
            : requirements;
    if (script.container().isPresent() && !requirements.container()) {
      requirements = requirements.withContainer(true);
    }
    if (requirements.syntax() != script.syntax()) {
      throw new ConfigurationException(
          "step " + stepId + ".requirements.syntax",
          "is "
              + requirements.syntax()
              + " but the script is "
              + script.syntax()
              + "; they must be the same");
    }
    actionId = actionId == null ? Optional.empty() : actionId.filter(a -> !a.isBlank());
    maxParallelism = maxParallelism == null ? OptionalInt.empty() : maxParallelism;
    if (maxParallelism.isPresent()) {
      if (maxParallelism.getAsInt() < 1) {
        throw new ConfigurationException(
            "step " + stepId + ".maxParallelism",
            "must be at least 1 but was " + maxParallelism.getAsInt());
      }
      if (actionId.isEmpty()) {
        throw new ConfigurationException(
            "step " + stepId + ".maxParallelism",
            "needs an action id: max parallelism bounds the invocations of one action");
      }
    }
    waitForWorker = waitForWorker == null ? Optional.empty() : waitForWorker;
    waitForWorker.ifPresent(
        d -> {
          if (d.isNegative()) {
            throw new ConfigurationException(
                "step " + stepId + ".waitForWorker", "must not be negative but was " + d);
          }
        });
  }

  /** A step with default requirements (default pool, the script's syntax). */
  public static Builder builder(String stepId, ScriptRequest script) {
    return new Builder(stepId, script);
  }

  /** Builds a {@link Step}. Defaults: the default pool, no action, no waiting for a worker. */
  public static final class Builder {
    private final String stepId;
    private final ScriptRequest script;
    private StepRequirements requirements;
    private String actionId;
    private OptionalInt maxParallelism = OptionalInt.empty();
    private Duration waitForWorker;

    private Builder(String stepId, ScriptRequest script) {
      this.stepId = stepId;
      this.script = script;
    }

    public Builder requirements(StepRequirements requirements) {
      this.requirements = requirements;
      return this;
    }

    /** The action this step invokes, without a parallelism bound. */
    public Builder action(String actionId) {
      this.actionId = actionId;
      return this;
    }

    /** The action this step invokes, and how many of its invocations may run at once. */
    public Builder action(String actionId, int maxParallelism) {
      this.actionId = actionId;
      this.maxParallelism = OptionalInt.of(maxParallelism);
      return this;
    }

    /** Wait up to this long for an eligible worker instead of failing at once. */
    public Builder waitForWorker(Duration maxWait) {
      this.waitForWorker = maxWait;
      return this;
    }

    public Step build() {
      return new Step(
          stepId,
          requirements,
          script,
          Optional.ofNullable(actionId),
          maxParallelism,
          Optional.ofNullable(waitForWorker));
    }
  }
}
