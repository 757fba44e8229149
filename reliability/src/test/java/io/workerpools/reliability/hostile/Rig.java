package io.workerpools.reliability.hostile;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogLine;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The whole library wired for the hostile tests: an agent as a separate OS process (listening, on
 * 127.0.0.1) holding the only worker of pool {@value #AGENTS}, and the built-in worker (the local
 * transport) for the empty default pool; one resolver over an in-memory store and one dispatcher.
 * Steps sent to {@link Target#BUILT_IN} run as child processes of this JVM; steps sent to {@link
 * Target#AGENT} run on the agent.
 */
final class Rig implements AutoCloseable {
  static final String AGENTS = "agents";

  /** Where a step runs. */
  enum Target {
    BUILT_IN,
    AGENT
  }

  final Path dir;
  final Path localBase;
  final Path agentHome;
  final AgentProcess agent;
  final TentacleTransport tentacle;
  final LocalProcessTransport local;
  final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  final WorkerResolver resolver;
  final StepDispatcher dispatcher;

  Rig() throws IOException {
    dir = Files.createTempDirectory("hostile-rig");
    localBase = Files.createDirectories(dir.resolve("local"));
    agentHome = dir.resolve("agent");
    agent = AgentProcess.listen(agentHome, Hostile.HOST.thumbprint());
    tentacle = TentacleTransport.builder(Hostile.HOST).build();
    local = LocalProcessTransport.builder().baseDirectory(localBase).build();
    store.putPool(WorkerPool.of(AGENTS, "Agents"));
    store.putWorker(
        Hostile.listeningWorker("agent-1", AGENTS, agent.address(), agent.thumbprint()));
    store.recordHealth(
        io.workerpools.model.WorkerId.of("agent-1"),
        HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, "test"));
    resolver = WorkerResolver.builder(store).nodeId("hostile").build();
    dispatcher =
        StepDispatcher.builder(resolver)
            .transport(local)
            .transport(tentacle)
            .createBuiltInTransport(false)
            .build();
  }

  /** A step of {@code script} sent to {@code target}. */
  static Step step(String id, Target target, ScriptRequest script) {
    StepRequirements.Builder r = StepRequirements.builder().syntax(script.syntax());
    if (target == Target.AGENT) {
      r.pool(AGENTS);
    }
    return Step.builder(id, script).requirements(r.build()).build();
  }

  /** Runs a step to its end (bounded wait). */
  StepResult run(Step step, Lines sink) {
    return await(dispatcher.dispatch(step, sink));
  }

  static StepResult await(StepRun run) {
    return run.result().toCompletableFuture().orTimeout(90, TimeUnit.SECONDS).join();
  }

  /** No lease held and no step in flight. */
  boolean idle() {
    return store.leases().isEmpty() && dispatcher.activeCount() == 0;
  }

  @Override
  public void close() {
    dispatcher.close();
    resolver.close();
    tentacle.close();
    local.close();
    agent.close();
    Hostile.deleteTree(dir);
  }

  /** A sink that keeps a step's lines. */
  static final class Lines implements StepLogSink {
    final List<StepLogLine> lines = new CopyOnWriteArrayList<>();

    @Override
    public void onLine(StepLogLine line) {
      lines.add(line);
    }

    List<String> texts() {
      return lines.stream().map(l -> l.line().text()).toList();
    }

    List<String> texts(LogLine.Source source) {
      return lines.stream()
          .filter(l -> l.line().source() == source)
          .map(l -> l.line().text())
          .toList();
    }
  }
}
