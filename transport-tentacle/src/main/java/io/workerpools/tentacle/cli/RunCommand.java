package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.AgentTrust;
import io.workerpools.tentacle.TentacleAgent;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code listen} and {@code poll}: start the agent and run until SIGTERM. On start they print
 * {@code thumbprint: ...} then {@code listening on HOST:PORT} or {@code polling HOST:PORT as ID} on
 * standard output (what {@link io.workerpools.tentacle.AgentProcess} and scripts read); logs go to
 * standard error.
 */
abstract class RunCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Mixin Invocation invocation;

  /** Sets the mode on the builder; returns the start line's text after the thumbprint. */
  abstract void mode(TentacleAgent.Builder b, Settings s);

  abstract String started(TentacleAgent agent, Settings s);

  @Override
  public Integer call() throws InterruptedException {
    Settings s = invocation.settings();
    Path home = invocation.prepareHome();
    TentacleAgent.Builder b =
        TentacleAgent.builder(home)
            .shutdown(
                s.text(Setting.SHUTDOWN_MODE).equals("finish")
                    ? TentacleAgent.ShutdownMode.FINISH
                    : TentacleAgent.ShutdownMode.CANCEL,
                s.duration(Setting.SHUTDOWN_TIMEOUT))
            .handshakeTimeout(s.duration(Setting.HANDSHAKE_TIMEOUT))
            .maxFrameBytes(s.integer(Setting.FRAME_MAX_BYTES))
            .workspaceRetention(s.duration(Setting.WORKSPACE_RETENTION));
    for (String t : s.list(Setting.TRUST)) {
      b.trust(t);
    }
    mode(b, s);
    LOG.info(
        "starting the agent: home {}, config {}", home, s.file() == null ? "(none)" : s.file());
    // The hook is in place before the start lines are printed: whoever reads them may send SIGTERM
    // at once (registering a hook during shutdown fails).
    AtomicReference<TentacleAgent> running = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  TentacleAgent a = running.getAndSet(null);
                  if (a != null) {
                    LOG.info("stopping: shutdown mode {}", s.text(Setting.SHUTDOWN_MODE));
                    a.close();
                    LOG.info("stopped");
                  }
                  stopped.countDown();
                },
                "agent-shutdown"));
    TentacleAgent agent = b.start();
    running.set(agent);
    String line = started(agent, s);
    LOG.info(
        "{}; trusting {} host thumbprint(s) ({} given at start, the others stored in {})",
        line,
        agent.trustedHosts().size(),
        s.list(Setting.TRUST).size(),
        AgentTrust.of(home).file());
    invocation.out().println("thumbprint: " + agent.thumbprint());
    invocation.out().println(line);
    invocation.out().flush();
    stopped.await();
    return Cli.OK;
  }

  /** Listening mode. */
  @Command(
      name = "listen",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Runs the agent in listening mode: the host connects to it (Tentacle's listening mode).",
        "Prints 'thumbprint: T' and 'listening on HOST:PORT', then serves until SIGTERM."
      })
  static final class Listen extends RunCommand {
    @Override
    void mode(TentacleAgent.Builder b, Settings s) {
      b.listen(s.text(Setting.LISTEN_ADDRESS), s.integer(Setting.LISTEN_PORT))
          .maxConnections(s.integer(Setting.CONNECTIONS_MAX))
          .maxPendingHandshakes(s.integer(Setting.HANDSHAKE_MAX_PENDING))
          .idleTimeout(s.duration(Setting.CONNECTIONS_IDLE_TIMEOUT));
    }

    @Override
    String started(TentacleAgent agent, Settings s) {
      InetSocketAddress a = agent.listeningAddress();
      return "listening on " + a.getAddress().getHostAddress() + ":" + a.getPort();
    }
  }

  /** Polling mode. */
  @Command(
      name = "poll",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Runs the agent in polling mode: it connects out to the host's polling port (for workers"
            + " the host cannot reach), reconnecting with jittered back-off.",
        "Prints 'thumbprint: T' and 'polling HOST:PORT as ID', then serves until SIGTERM."
      })
  static final class Poll extends RunCommand {
    @Option(
        names = "--backoff-ms",
        paramLabel = "MIN,MAX",
        hidden = true,
        description = "old spelling of --backoff-min/--backoff-max, in milliseconds")
    String backoffMs;

    @Override
    void mode(TentacleAgent.Builder b, Settings s) {
      List<String> servers = s.has(Setting.POLL_SERVER) ? s.list(Setting.POLL_SERVER) : List.of();
      String subscription = s.text(Setting.POLL_SUBSCRIPTION);
      if (servers.isEmpty() || subscription == null) {
        throw new ConfigurationException(
            servers.isEmpty() ? Setting.POLL_SERVER.flag() : Setting.POLL_SUBSCRIPTION.flag(),
            "poll needs --server HOST:PORT and --subscription ID (or poll.server and"
                + " poll.subscription in the config file)");
      }
      int connections = s.integer(Setting.POLL_CONNECTIONS);
      b.poll(address(servers.get(0)), subscription, connections);
      // Further host nodes: each served directly, over the same number of connections, each
      // server's certificate checked against the agent's trust (stored and --trust).
      for (String more : servers.subList(1, servers.size())) {
        b.pollServer(address(more));
      }
      Duration min = s.duration(Setting.POLL_BACKOFF_MIN);
      Duration max = s.duration(Setting.POLL_BACKOFF_MAX);
      if (backoffMs != null) {
        String[] p = backoffMs.split(",");
        if (p.length != 2) {
          throw new ConfigurationException("--backoff-ms", "expected MIN,MAX in milliseconds");
        }
        try {
          min = Setting.duration(p[0].strip() + "ms", Duration.ofMillis(1));
          max = Setting.duration(p[1].strip() + "ms", Duration.ofMillis(1));
        } catch (IllegalArgumentException e) {
          throw new ConfigurationException("--backoff-ms", e.getMessage());
        }
      }
      if (max.compareTo(min) < 0) {
        throw new ConfigurationException(
            "poll.backoff.max", "must be at least poll.backoff.min (" + min + ") but was " + max);
      }
      b.reconnectBackoff(min, max);
    }

    private static InetSocketAddress address(String hostPort) {
      int colon = hostPort.lastIndexOf(':');
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    }

    @Override
    String started(TentacleAgent agent, Settings s) {
      return "polling " + s.text(Setting.POLL_SERVER) + " as " + s.text(Setting.POLL_SUBSCRIPTION);
    }
  }
}
