package io.workerpools.examples;

import io.workerpools.WorkerPoolsException;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleTransport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Starts polling agents for the examples, several at once (each is a JVM: started one after the
 * other they would add their start-up times), and binds each one's subscription to its thumbprint
 * on the host, as an operator does once per agent.
 */
final class Agents {
  private Agents() {}

  /**
   * Starts agents {@code <name>} for each name, home {@code home/<name>}, subscription {@code
   * <name>}, dialling {@code host}'s polling port.
   */
  static List<AgentProcess> startPolling(
      Path home, TentacleTransport host, List<String> names, int connections, Consumer<String> log)
      throws InterruptedException {
    ExecutorService starter = Executors.newFixedThreadPool(Math.max(1, names.size()));
    List<CompletableFuture<AgentProcess>> starting = new ArrayList<>();
    try {
      for (String name : names) {
        // Registered as soon as it has started: until then the host refuses its connections
        // (logged as a warning) and it retries.
        starting.add(
            CompletableFuture.supplyAsync(
                () -> {
                  AgentProcess a =
                      AgentProcess.poll(
                          home.resolve(name),
                          host.thumbprint(),
                          host.pollingAddress(),
                          name,
                          connections);
                  try {
                    host.registerPollingAgent(name, a.thumbprint());
                  } catch (RuntimeException e) {
                    a.close();
                    throw e;
                  }
                  return a;
                },
                starter));
      }
      List<AgentProcess> agents = new ArrayList<>();
      Throwable failed = null;
      for (int i = 0; i < names.size(); i++) {
        try {
          AgentProcess a = starting.get(i).get(); // AgentProcess waits at most 30 s itself
          agents.add(a);
          log.accept(
              "started agent "
                  + names.get(i)
                  + " (pid "
                  + a.process().pid()
                  + "), polling as "
                  + names.get(i)
                  + ", thumbprint "
                  + a.thumbprint().substring(0, 16)
                  + "...");
        } catch (ExecutionException e) {
          failed = failed == null ? e.getCause() : failed;
        }
      }
      if (failed != null) {
        agents.forEach(AgentProcess::close);
        throw new WorkerPoolsException("an agent did not start: " + failed.getMessage(), failed);
      }
      return agents;
    } finally {
      starter.shutdown();
    }
  }

  /** {@code prefix1 .. prefixN}. */
  static List<String> names(String prefix, int n) {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      names.add(prefix + i);
    }
    return names;
  }
}
