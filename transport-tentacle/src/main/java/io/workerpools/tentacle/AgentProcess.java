package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts an agent as a separate OS process, as an operator would, and reads its thumbprint and
 * listening port from its output. For demos and tests:
 *
 * <pre>{@code
 * try (AgentProcess agent = AgentProcess.listen(home, hostThumbprint)) {
 *   Endpoint e = Endpoint.of("tentacle-listening", "https://127.0.0.1:" + agent.port(),
 *       Map.of("thumbprint", agent.thumbprint()));
 * }
 * }</pre>
 *
 * <p>By default the process runs {@code java -cp <this JVM's class path>
 * io.workerpools.tentacle.AgentMain}; {@link #jar(Path)} runs the shaded jar instead. {@link
 * #close()} kills the process tree.
 */
public final class AgentProcess implements AutoCloseable {
  private final Process process;
  private final String thumbprint;
  private final Optional<InetSocketAddress> listening;
  private final List<String> output;

  private AgentProcess(
      Process process, String thumbprint, InetSocketAddress listening, List<String> output) {
    this.process = process;
    this.thumbprint = thumbprint;
    this.listening = Optional.ofNullable(listening);
    this.output = output;
  }

  /**
   * JVM options for a small, quick-starting agent: the C1 compiler only and the serial collector
   * (an agent mostly waits on sockets and child processes).
   */
  private static final List<String> AGENT_JVM_OPTIONS =
      List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  /** The command prefix that runs the agent from a jar. */
  public static List<String> jar(Path jar) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(AGENT_JVM_OPTIONS);
    cmd.add("-jar");
    cmd.add(jar.toString());
    return List.copyOf(cmd);
  }

  /** The command prefix that runs the agent from this JVM's class path. */
  public static List<String> classpath() {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(AGENT_JVM_OPTIONS);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(AgentMain.class.getName());
    return List.copyOf(cmd);
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Starts a listening agent on a free loopback port, trusting {@code hostThumbprint}. */
  public static AgentProcess listen(Path home, String hostThumbprint) {
    return start(classpath(), home, List.of("listen", "--port", "0", "--trust", hostThumbprint));
  }

  /** Starts a listening agent on {@code port} (to restart one on the same port). */
  public static AgentProcess listen(Path home, String hostThumbprint, int port) {
    return start(
        classpath(),
        home,
        List.of("listen", "--port", Integer.toString(port), "--trust", hostThumbprint));
  }

  /** Starts a polling agent. */
  public static AgentProcess poll(
      Path home,
      String hostThumbprint,
      InetSocketAddress server,
      String subscription,
      int connections) {
    return start(
        classpath(),
        home,
        List.of(
            "poll",
            "--server",
            server.getHostString() + ":" + server.getPort(),
            "--subscription",
            subscription,
            "--trust",
            hostThumbprint,
            "--connections",
            Integer.toString(connections),
            "--backoff-min",
            "200ms",
            "--backoff-max",
            "2s"));
  }

  /**
   * Starts {@code command + --home home + args} and waits (up to 30 s) for its start lines.
   *
   * @throws WorkerPoolsException with the process output if it does not start
   */
  public static AgentProcess start(List<String> command, Path home, List<String> args) {
    List<String> cmd = new ArrayList<>(command);
    cmd.add("--home");
    cmd.add(home.toString());
    cmd.addAll(args);
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new WorkerPoolsException("cannot start the agent: " + e.getMessage(), e);
    }
    List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<String> thumb = new CompletableFuture<>();
    CompletableFuture<InetSocketAddress> ready = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  output.add(line);
                  if (line.startsWith("thumbprint: ")) {
                    thumb.complete(line.substring(12).trim());
                  } else if (line.startsWith("listening on ")) {
                    String hp = line.substring(13).trim();
                    int c = hp.lastIndexOf(':');
                    ready.complete(
                        new InetSocketAddress(
                            hp.substring(0, c), Integer.parseInt(hp.substring(c + 1))));
                  } else if (line.startsWith("polling ")) {
                    ready.complete(null);
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
              ready.completeExceptionally(new IOException("the agent exited"));
            },
            "agent-process-output");
    reader.setDaemon(true);
    reader.start();
    try {
      InetSocketAddress addr = ready.get(30, TimeUnit.SECONDS);
      return new AgentProcess(p, thumb.getNow(null), addr, output);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      p.destroyForcibly();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new WorkerPoolsException("the agent did not start: " + String.join("\n", output), e);
    }
  }

  /** The agent's certificate thumbprint. */
  public String thumbprint() {
    return Objects.requireNonNull(thumbprint, "the agent printed no thumbprint");
  }

  /**
   * The listening port (listening mode).
   *
   * @throws ConfigurationException (field {@code listen}) if the agent was started to poll
   */
  public int port() {
    return listening.orElseThrow(AgentProcess::notListening).getPort();
  }

  /**
   * The listening address, as an endpoint address: {@code https://127.0.0.1:PORT}.
   *
   * @throws ConfigurationException (field {@code listen}) if the agent was started to poll
   */
  public String address() {
    InetSocketAddress a = listening.orElseThrow(AgentProcess::notListening);
    return "https://" + a.getHostString() + ":" + a.getPort();
  }

  private static ConfigurationException notListening() {
    return new ConfigurationException("listen", "not a listening agent");
  }

  /** The agent's output so far. */
  public List<String> output() {
    synchronized (output) {
      return List.copyOf(output);
    }
  }

  /** The OS process. */
  public Process process() {
    return process;
  }

  /** Kills the agent at once (like a crash): no graceful shutdown. */
  public void kill() {
    // The agent dies first, as in a crash: killed the other way round, a still-living agent could
    // see its scripts die and record their ends, which a crash never does. Its scripts are listed
    // before (once orphaned they are no longer its descendants) and killed after.
    List<ProcessHandle> scripts = process.descendants().toList();
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(10));
    scripts.forEach(ProcessHandle::destroyForcibly);
  }

  private void waitFor(Duration d) {
    try {
      process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the agent gracefully (SIGTERM), then kills what is left. */
  @Override
  public void close() {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    waitFor(Duration.ofSeconds(10));
    children.forEach(ProcessHandle::destroyForcibly);
    if (process.isAlive()) {
      kill();
    }
  }
}
