package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The agent's command line: {@code java -jar workerpools-agent.jar [--home DIR] COMMAND ...}. On
 * start it prints machine-readable lines ({@code thumbprint: ...}, then {@code listening on
 * HOST:PORT} or {@code polling HOST:PORT as SUBSCRIPTION}) that {@link AgentProcess} and operators
 * read.
 */
public final class AgentMain {
  static final String USAGE =
      String.join(
          "\n",
          "Usage: java -jar workerpools-agent.jar [--home DIR] COMMAND [OPTIONS]",
          "",
          "The WorkerPools agent runs scripts for a host over mutual TLS with pinned thumbprints.",
          "",
          "Commands:",
          "  cert                                   create the certificate if needed; print its thumbprint",
          "  listen --port N --trust THUMBPRINT     listen for the host (port 0: any free port)",
          "         [--bind ADDRESS]                address to bind (default 127.0.0.1; 0.0.0.0 for all)",
          "  poll --server HOST:PORT --subscription ID --trust THUMBPRINT [--connections N]",
          "                                         connect out to the host's polling port",
          "",
          "Options:",
          "  --home DIR          state directory: certificate, workspaces, files (default ./agent-home)",
          "  --trust THUMBPRINT  the host's certificate thumbprint (repeatable)",
          "  --backoff-ms MIN,MAX  polling reconnect back-off range (default 5000,120000)",
          "  --max-frame BYTES   the largest frame accepted (default 16777216, at least 1024)",
          "  --shutdown finish|cancel  on SIGTERM, let running scripts finish (up to",
          "                      --shutdown-timeout SECONDS, default 30) or cancel them (default)",
          "  --help              this text");

  private AgentMain() {}

  /** Entry point. */
  public static void main(String[] args) throws InterruptedException {
    int code = run(args, System.out, System.err);
    if (code >= 0) {
      System.exit(code);
    }
  }

  /** Runs a command; returns an exit code, or -1 if an agent was started and is now stopped. */
  static int run(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
    Path home = Path.of("agent-home");
    String command = null;
    int port = -1;
    String bind = "127.0.0.1";
    String server = null;
    String subscription = null;
    int connections = Math.max(5, Runtime.getRuntime().availableProcessors());
    List<String> trust = new ArrayList<>();
    long minBackoff = 5000;
    long maxBackoff = 120_000;
    TentacleAgent.ShutdownMode shutdownMode = TentacleAgent.ShutdownMode.CANCEL;
    int shutdownSeconds = 30;
    int maxFrame = -1;
    try {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--help":
          case "-h":
          case "help":
            out.println(USAGE);
            return 0;
          case "--home":
            home = Path.of(value(args, ++i, a));
            break;
          case "--port":
            port = intValue(args, ++i, a);
            break;
          case "--bind":
            bind = value(args, ++i, a);
            break;
          case "--trust":
            trust.add(value(args, ++i, a));
            break;
          case "--server":
            server = value(args, ++i, a);
            break;
          case "--subscription":
            subscription = value(args, ++i, a);
            break;
          case "--connections":
            connections = intValue(args, ++i, a);
            break;
          case "--backoff-ms":
            {
              String[] p = value(args, ++i, a).split(",");
              if (p.length != 2) {
                throw new ConfigurationException(a, "expected MIN,MAX in milliseconds");
              }
              minBackoff = Long.parseLong(p[0].trim());
              maxBackoff = Long.parseLong(p[1].trim());
              break;
            }
          case "--shutdown":
            {
              String mode = value(args, ++i, a);
              if (!mode.equals("finish") && !mode.equals("cancel")) {
                throw new ConfigurationException(
                    a, "'" + mode + "' is not valid: use finish or cancel");
              }
              shutdownMode =
                  mode.equals("finish")
                      ? TentacleAgent.ShutdownMode.FINISH
                      : TentacleAgent.ShutdownMode.CANCEL;
              break;
            }
          case "--max-frame":
            maxFrame = intValue(args, ++i, a);
            break;
          case "--shutdown-timeout":
            shutdownSeconds = intValue(args, ++i, a);
            break;
          case "cert":
          case "listen":
          case "poll":
            if (command != null) {
              throw new ConfigurationException(
                  "command", "give one command, not '" + command + "' and '" + a + "'");
            }
            command = a;
            break;
          default:
            throw new ConfigurationException(
                "arguments", "unknown argument '" + a + "'; see --help");
        }
      }
      if (command == null) {
        err.println(USAGE);
        return 2;
      }
      if (command.equals("cert")) {
        TentacleCertificate c =
            TentacleCertificate.loadOrCreate(home.resolve("certificate"), "workerpools-agent");
        out.println("thumbprint: " + c.thumbprint());
        out.flush();
        return 0;
      }
      TentacleAgent.Builder b =
          TentacleAgent.builder(home).shutdown(shutdownMode, Duration.ofSeconds(shutdownSeconds));
      for (String t : trust) {
        b.trust(t);
      }
      if (maxFrame >= 0) {
        b.maxFrameBytes(maxFrame);
      }
      if (command.equals("listen")) {
        if (port < 0) {
          throw new ConfigurationException("--port", "listen needs --port N (0 for any free port)");
        }
        b.listen(bind, port);
      } else {
        if (server == null || subscription == null) {
          throw new ConfigurationException(
              "poll", "poll needs --server HOST:PORT and --subscription ID");
        }
        b.poll(parseServer(server), subscription, connections);
        b.reconnectBackoff(Duration.ofMillis(minBackoff), Duration.ofMillis(maxBackoff));
      }
      TentacleAgent agent = b.start();
      out.println("thumbprint: " + agent.thumbprint());
      if (command.equals("listen")) {
        InetSocketAddress a = agent.listeningAddress();
        out.println("listening on " + a.getAddress().getHostAddress() + ":" + a.getPort());
      } else {
        out.println("polling " + server + " as " + subscription);
      }
      out.flush();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    agent.close();
                    stopped.countDown();
                  },
                  "agent-shutdown"));
      stopped.await();
      return -1;
    } catch (ConfigurationException | NumberFormatException e) {
      err.println("error: " + e.getMessage());
      err.println("Run with --help for usage.");
      return 2;
    }
  }

  static InetSocketAddress parseServer(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0) {
      throw new ConfigurationException("--server", "'" + s + "' is not HOST:PORT");
    }
    try {
      return new InetSocketAddress(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("--server", "'" + s + "' is not HOST:PORT");
    }
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new ConfigurationException(option, "needs a value");
    }
    return args[i];
  }

  private static int intValue(String[] args, int i, String option) {
    try {
      return Integer.parseInt(value(args, i, option));
    } catch (NumberFormatException e) {
      throw new ConfigurationException(option, "'" + args[i] + "' is not a number");
    }
  }
}
