package io.workerpools.tentacle.enrol;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.tentacle.AgentTrust;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.ProtocolVersions;
import io.workerpools.tentacle.internal.SharedTimer;
import io.workerpools.tentacle.internal.Wire;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * The agent's side of enrolment: presents its certificate (created under {@code HOME/certificate}
 * if needed) and a one-time token to the host's enrolment port, pinning the host thumbprint the
 * token carries (no first-use trust), and on success stores that thumbprint in the agent's trust
 * ({@link AgentTrust}), so the agent can then {@code poll} or {@code listen} with no {@code
 * --trust}. What {@code workerpools-agent enrol} calls:
 *
 * <pre>{@code
 * AgentEnrolment.Result r = AgentEnrolment.builder(home, hostEnrolmentAddress, tokenText)
 *     .pool("linux")          // optional: refuse a token for another pool
 *     .polling()              // or .listening(port)
 *     .enrol();
 * // r.subscription() for poll --subscription; r.hostThumbprint() is now trusted
 * }</pre>
 *
 * <p>The token text is a secret: read it from a file, stdin or the environment, never from argv; no
 * message here repeats it.
 */
public final class AgentEnrolment {
  /**
   * A refusal by the host, with its reason (expired, already used, another pool, too many failed
   * attempts, not valid).
   */
  public static final class RefusedException extends WorkerPoolsException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  /**
   * A successful enrolment.
   *
   * @param workerId the worker the host recorded
   * @param pool the pool it joined
   * @param subscription the polling subscription (polling mode)
   * @param hostThumbprint the host's thumbprint, now in the agent's stored trust
   * @param agentThumbprint this agent's thumbprint, pinned by the host
   */
  public record Result(
      String workerId,
      String pool,
      Optional<String> subscription,
      String hostThumbprint,
      String agentThumbprint) {}

  private final Path home;
  private final InetSocketAddress server;
  private final EnrolmentToken.Parts token;
  private String name;
  private String pool;
  private String mode = "polling";
  private int port;
  private Duration timeout = Duration.ofSeconds(10);

  private AgentEnrolment(Path home, InetSocketAddress server, String tokenText) {
    this.home = Objects.requireNonNull(home, "home");
    this.server = Objects.requireNonNull(server, "server");
    this.token = EnrolmentToken.parse(tokenText);
  }

  /**
   * An enrolment of the agent whose home is {@code home} at the host's enrolment port {@code
   * server} with {@code tokenText} ({@code WPE1.<id>.<secret>.<host thumbprint>}).
   *
   * @throws ConfigurationException (field {@code token}) if the token is malformed
   */
  public static AgentEnrolment builder(Path home, InetSocketAddress server, String tokenText) {
    return new AgentEnrolment(home, server, tokenText);
  }

  /** The worker name to ask for (default: derived from the agent's thumbprint). */
  public AgentEnrolment name(String name) {
    if (name == null || !name.matches(EnrolMessages.NAME)) {
      throw new ConfigurationException(
          "name", "'" + name + "' is not valid: use 1 to 64 letters, digits, '.', '_' or '-'");
    }
    this.name = name;
    return this;
  }

  /** The pool the agent expects to join: a token for another pool is refused. */
  public AgentEnrolment pool(String pool) {
    if (pool == null || !pool.matches(EnrolMessages.NAME)) {
      throw new ConfigurationException("pool", "'" + pool + "' is not a valid pool id");
    }
    this.pool = pool;
    return this;
  }

  /** Enrol as a polling worker (the default). */
  public AgentEnrolment polling() {
    this.mode = "polling";
    this.port = 0;
    return this;
  }

  /** Enrol as a listening worker, reached at this machine's address on {@code port}. */
  public AgentEnrolment listening(int port) {
    if (port < 1 || port > 65535) {
      throw new ConfigurationException("port", "must be 1 to 65535 but was " + port);
    }
    this.mode = "listening";
    this.port = port;
    return this;
  }

  /** The absolute deadline of the whole enrolment: connect, TLS, request, reply (default 10 s). */
  public AgentEnrolment timeout(Duration timeout) {
    if (timeout.toMillis() < 100) {
      throw new ConfigurationException("timeout", "must be at least 100 ms but was " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Enrols: on success the host's thumbprint is stored in the agent's trust.
   *
   * @throws RefusedException if the host refused (its reason in the message)
   * @throws WorkerPoolsException if the host cannot be reached, or is not the host the token names
   *     (its certificate's thumbprint differs: nothing is sent)
   */
  public Result enrol() {
    TentacleCertificate own =
        TentacleCertificate.loadOrCreate(home.resolve("certificate"), "workerpools-agent");
    var ssl = PinnedTls.context(own, () -> Set.of(token.hostThumbprint()));
    EnrolMessages.Reply reply;
    SSLSocket s = null;
    ScheduledFuture<?> deadline = null;
    try {
      s = (SSLSocket) ssl.getSocketFactory().createSocket();
      PinnedTls.configure(s);
      SSLSocket socket = s;
      deadline =
          SharedTimer.get()
              .schedule(
                  () -> {
                    try {
                      socket.close();
                    } catch (IOException e) {
                      // closing anyway
                    }
                  },
                  timeout.toMillis(),
                  TimeUnit.MILLISECONDS);
      s.connect(server, (int) timeout.toMillis());
      s.setSoTimeout((int) timeout.toMillis());
      s.startHandshake();
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      Frames.writeLine(out, ProtocolVersions.CURRENT.hello("ENROL"));
      ProtocolVersions.Line answer = ProtocolVersions.parse(Frames.readPreamble(in));
      if (!answer.words().startsWith("OK")) {
        throw new RefusedException("the host refused the enrolment: " + answer.words());
      }
      EnrolMessages.Request req =
          new EnrolMessages.Request(token.id(), token.secret(), name, pool, mode, port);
      Frames.write(out, Wire.MAPPER.writeValueAsBytes(req));
      byte[] frame = Frames.read(in, EnrolMessages.MAX_REPLY_BYTES);
      if (frame == null) {
        throw new IOException("the host closed the connection without answering");
      }
      reply = Wire.MAPPER.readValue(frame, EnrolMessages.Reply.class);
    } catch (IOException e) {
      PinnedTls.UntrustedPeerException u = PinnedTls.untrusted(e);
      if (u != null) {
        throw new WorkerPoolsException(
            "the host at "
                + server.getHostString()
                + ":"
                + server.getPort()
                + " is not the one the enrolment token names: "
                + u.getMessage()
                + "; nothing was sent",
            e);
      }
      throw new WorkerPoolsException(
          "cannot enrol with the host at "
              + server.getHostString()
              + ":"
              + server.getPort()
              + ": "
              + e.getMessage(),
          e);
    } finally {
      if (deadline != null) {
        deadline.cancel(false);
      }
      if (s != null) {
        try {
          s.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
    if (reply.error() != null) {
      throw new RefusedException("the host refused the enrolment: " + reply.error());
    }
    if (reply.workerId() == null || reply.pool() == null) {
      throw new WorkerPoolsException("the host's enrolment reply names no worker or pool");
    }
    AgentTrust.of(home).add(token.hostThumbprint());
    return new Result(
        reply.workerId(),
        reply.pool(),
        Optional.ofNullable(reply.subscription()),
        token.hostThumbprint(),
        own.thumbprint());
  }
}
