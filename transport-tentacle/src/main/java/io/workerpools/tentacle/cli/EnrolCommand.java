package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.enrol.AgentEnrolment;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code enrol} (alias {@code register}, after Tentacle's {@code register-worker}): joins a pool
 * with a one-time token. The token is a secret: it is read from a file, standard input or an
 * environment variable, never from the command line (where {@code ps} shows it), and never printed
 * or logged.
 */
@Command(
    name = "enrol",
    aliases = "register",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Enrols this agent with a host using a one-time token the host issued: presents the agent's"
          + " certificate (created if needed), pins the host thumbprint the token carries, and on"
          + " success stores that thumbprint (configure shows it). Then run 'poll --server"
          + " HOST:PORT --subscription ID' (polling) or 'listen' (listening).",
      "The token is read from --token-file, --token-stdin or --token-env; never give it as an"
          + " argument."
    })
final class EnrolCommand implements Callable<Integer> {
  /** The longest token text read. */
  static final int MAX_TOKEN_BYTES = 4096;

  @Mixin Invocation invocation;

  @Option(
      names = "--server",
      paramLabel = "HOST:PORT",
      required = true,
      description = "the host's enrolment port")
  String server;

  @ArgGroup(multiplicity = "1")
  TokenSource token;

  /** Where the token comes from: exactly one. */
  static final class TokenSource {
    @Option(names = "--token-file", paramLabel = "FILE", description = "read the token from FILE")
    Path file;

    @Option(names = "--token-stdin", description = "read the token from standard input")
    boolean stdin;

    @Option(
        names = "--token-env",
        paramLabel = "VAR",
        description = "read the token from the environment variable VAR")
    String env;
  }

  @Option(names = "--pool", paramLabel = "POOL", description = "refuse a token for another pool")
  String pool;

  @Option(names = "--name", paramLabel = "NAME", description = "the worker name to ask for")
  String name;

  @Option(
      names = "--listening",
      paramLabel = "PORT",
      description = "enrol as a listening worker on PORT (default: polling)")
  Integer listeningPort;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      description = "deadline of the whole enrolment (default ${DEFAULT-VALUE})")
  String timeout;

  @Override
  public Integer call() throws IOException {
    Duration deadline;
    try {
      deadline = Setting.duration(timeout, Duration.ofMillis(100));
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("--timeout", e.getMessage());
    }
    String address;
    try {
      address = Setting.hostPort(server.strip());
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException("--server", e.getMessage());
    }
    int colon = address.lastIndexOf(':');
    Path home = invocation.prepareHome();
    AgentEnrolment e =
        AgentEnrolment.builder(
                home,
                new java.net.InetSocketAddress(
                    address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                readToken())
            .timeout(deadline);
    if (pool != null) {
      e.pool(pool);
    }
    if (name != null) {
      e.name(name);
    }
    if (listeningPort != null) {
      e.listening(listeningPort);
    } else {
      e.polling();
    }
    AgentEnrolment.Result r;
    try {
      r = e.enrol();
    } catch (AgentEnrolment.RefusedException refused) {
      invocation.err().println("error: the host refused the enrolment: " + refused.getMessage());
      return Cli.FAILED;
    }
    invocation.out().println("worker: " + r.workerId());
    invocation.out().println("pool: " + r.pool());
    r.subscription().ifPresent(s -> invocation.out().println("subscription: " + s));
    invocation.out().println("trusted host: " + r.hostThumbprint());
    invocation.out().println("thumbprint: " + r.agentThumbprint());
    return Cli.OK;
  }

  private String readToken() throws IOException {
    byte[] bytes;
    String where;
    if (token.file != null) {
      where = "--token-file";
      if (Files.isSymbolicLink(token.file)
          || !Files.isRegularFile(token.file, LinkOption.NOFOLLOW_LINKS)) {
        throw new ConfigurationException(where, token.file + " is not a regular file");
      }
      if (Files.size(token.file) > MAX_TOKEN_BYTES) {
        throw new ConfigurationException(where, token.file + " is too large for a token");
      }
      bytes = Files.readAllBytes(token.file);
    } else if (token.stdin) {
      where = "--token-stdin";
      InputStream in = System.in;
      bytes = in.readNBytes(MAX_TOKEN_BYTES + 1);
      if (bytes.length > MAX_TOKEN_BYTES) {
        throw new ConfigurationException(
            where, "more than " + MAX_TOKEN_BYTES + " bytes: not a token");
      }
    } else {
      where = "--token-env";
      String v = System.getenv(token.env);
      if (v == null) {
        throw new ConfigurationException(
            where, "the environment variable " + token.env + " is not set");
      }
      bytes = v.getBytes(StandardCharsets.UTF_8);
    }
    String text = new String(bytes, StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      throw new ConfigurationException(where, "the token is empty");
    }
    return text;
  }
}
