package io.workerpools.examples;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where one step ran (its process's ancestors) and the CPU it reports. */
record StepTrace(String stepId, Optional<WorkerId> worker, List<Long> ancestors, long cpuMillis) {
  static StepTrace of(StepResult r, List<String> log) {
    List<Long> ancestors = List.of();
    long cpu = 0;
    boolean times = false;
    for (String line : log) {
      if (line.startsWith("ancestors ")) {
        ancestors =
            java.util.Arrays.stream(line.substring(10).trim().split(" "))
                .map(Long::valueOf)
                .toList();
      } else if (line.equals("cpu")) {
        times = true;
      } else if (times) {
        cpu += BashTimes.millis(line);
      }
    }
    return new StepTrace(r.stepId(), r.worker(), ancestors, cpu);
  }

  /** The agent (by pid) whose process tree the step ran in, if any. */
  Optional<WorkerId> agentOf(Map<WorkerId, Long> agentPids) {
    return agentPids.entrySet().stream()
        .filter(e -> ancestors.contains(e.getValue()))
        .map(Map.Entry::getKey)
        .findFirst();
  }

  static boolean ranOnTheHost(
      ScalingUpExample.Batch b, long hostPid, Map<WorkerId, Long> agentPids) {
    return b.traces().stream()
        .allMatch(
            t ->
                t.worker().equals(Optional.of(Worker.BUILT_IN_ID))
                    && t.ancestors().contains(hostPid)
                    && t.agentOf(agentPids).isEmpty());
  }

  static boolean ranOnTheirAgents(ScalingUpExample.Batch b, Map<WorkerId, Long> agentPids) {
    return b.traces().stream()
            .allMatch(t -> t.worker().isPresent() && t.agentOf(agentPids).equals(t.worker()))
        && b.traces().stream().map(StepTrace::worker).distinct().count() == b.workers();
  }
}
