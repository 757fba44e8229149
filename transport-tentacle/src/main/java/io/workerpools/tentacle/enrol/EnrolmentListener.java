package io.workerpools.tentacle.enrol;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.model.PoolId;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.HandshakeBudget;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.ProtocolVersions;
import io.workerpools.tentacle.internal.TrustedConnections;
import io.workerpools.tentacle.internal.Wire;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's enrolment port. An agent connects over TLS 1.3 presenting its certificate (any
 * certificate: the handshake proves it holds the key; the token authorises it) and pinning the
 * host's thumbprint its token carries; sends the preamble {@code WORKERPOOLS-TENTACLE/1 ENROL} and
 * one request (token id and secret, the name and pool it asks for, polling or listening); the host
 * redeems the token ({@link EnrolmentTokens}), records the worker through its {@link Registrar}
 * (stock: {@link #recordingIn}) with the agent's thumbprint pinned, and answers with the worker's
 * id and subscription, or why not.
 *
 * <p>Bounded against any peer that can reach the port: handshakes on a {@link HandshakeBudget} (at
 * most {@code maxPendingHandshakes} at once, oldest evicted, each closed at an absolute {@code
 * handshakeTimeout} that covers the request too); a request of at most 4 KiB; failed enrolments
 * limited per address and overall per minute ({@link Builder#failureLimits}), after which a
 * connection is answered "too many failed enrolments" without its token being looked at. Its own
 * port, apart from the polling port, because it accepts certificates nobody registered yet.
 */
public final class EnrolmentListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EnrolmentListener.class);

  /** An accepted enrolment: what the host records. */
  public record Enrolment(
      String tokenId,
      PoolId pool,
      String agentThumbprint,
      String name,
      Optional<InetSocketAddress> listeningAddress) {}

  /**
   * What the host did: the worker's id, and its polling subscription (empty for a listening one).
   */
  public record Enrolled(String workerId, Optional<String> subscription) {}

  /**
   * Records an accepted enrolment. Called on an enrolment handshake thread, within the handshake
   * deadline; must not block for long. Throws {@link WorkerPoolsException} to refuse (its message
   * goes to the agent).
   */
  @FunctionalInterface
  public interface Registrar {
    /** Records the worker; returns what the agent needs to know. */
    Enrolled register(Enrolment enrolment);
  }

  private final EnrolmentTokens tokens;
  private final Registrar registrar;
  private final SSLServerSocket server;
  private final HandshakeBudget handshakes;
  private final FailureLimiter limiter;
  private final Thread acceptor;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong enrolled = new AtomicLong();
  private volatile boolean closed;

  private EnrolmentListener(Builder b) {
    this.tokens = b.tokens;
    this.registrar = b.registrar;
    this.limiter = new FailureLimiter(b.perAddress, b.overall, b.clock);
    SSLContext ssl = PinnedTls.acceptingAnyClient(b.certificate);
    try {
      server = (SSLServerSocket) ssl.getServerSocketFactory().createServerSocket();
      server.setReuseAddress(true);
      server.setNeedClientAuth(true);
      server.setEnabledProtocols(PinnedTls.PROTOCOLS);
      server.bind(b.bind, 128);
    } catch (IOException e) {
      throw new ConfigurationException("enrolment", "cannot listen on " + b.bind + ": " + e, e);
    }
    handshakes = new HandshakeBudget("enrolment", b.maxPendingHandshakes, b.handshakeTimeout);
    acceptor = new Thread(this::acceptLoop, "enrolment-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * A builder for the port that enrols agents with {@code tokens} as the host whose certificate is
   * {@code certificate}.
   */
  public static Builder builder(
      TentacleCertificate certificate, EnrolmentTokens tokens, Registrar registrar) {
    return new Builder(certificate, tokens, registrar);
  }

  /**
   * The stock registrar: records the worker in {@code store} (in the token's pool, its thumbprint
   * pinned in its endpoint, label {@code enrolled-with-token} = the token id) and, for a polling
   * agent, binds its subscription on {@code transport} so it can connect at once. A worker of that
   * name registered with another certificate is refused.
   */
  public static Registrar recordingIn(
      io.workerpools.store.InfrastructureStore store,
      io.workerpools.tentacle.TentacleTransport transport) {
    return new StoreRegistrar(store, transport);
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** Enrolments refused so far (any reason, the rate limit included). */
  public long refused() {
    return refused.get();
  }

  /** Enrolments accepted so far. */
  public long enrolled() {
    return enrolled.get();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (closed || server.isClosed()) {
          return;
        }
        LOG.warn("enrolment accept failed: {}", e.toString());
        continue;
      }
      handshakes.admit(s, a -> serve(a, (SSLSocket) a.socket()));
    }
  }

  private void serve(HandshakeBudget.Admission admission, SSLSocket s) {
    InetSocketAddress peer = (InetSocketAddress) s.getRemoteSocketAddress();
    try (s) {
      s.setSoTimeout((int) handshakes.timeout().toMillis());
      s.startHandshake();
      String agent = TrustedConnections.peerOf(s);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      ProtocolVersions.Line hello = ProtocolVersions.parse(Frames.readPreamble(in));
      OptionalInt v = ProtocolVersions.CURRENT.choose(hello.min(), hello.version());
      if (v.isEmpty() || !hello.words().equals("ENROL")) {
        String why =
            v.isEmpty()
                ? ProtocolVersions.CURRENT.noCommonVersion(
                    "host", "agent", hello.min(), hello.version())
                : "this is the enrolment port; expected ENROL";
        Frames.writeLine(out, ProtocolVersions.CURRENT.error(why));
        refused(peer, null, why);
        return;
      }
      Frames.writeLine(out, ProtocolVersions.ok(v.getAsInt(), ""));
      if (limiter.blocked(peer.getAddress())) {
        reply(out, EnrolMessages.Reply.refused(tooMany()));
        refused.incrementAndGet();
        return;
      }
      EnrolMessages.Reply reply = enrol(in, peer, agent);
      reply(out, reply);
      admission.authenticated();
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        LOG.info("closed an enrolment connection from {}: {}", peer, e.getMessage());
      }
    }
  }

  private EnrolMessages.Reply enrol(InputStream in, InetSocketAddress peer, String agent)
      throws IOException {
    EnrolMessages.Request req;
    try {
      byte[] frame = Frames.read(in, EnrolMessages.MAX_REQUEST_BYTES);
      if (frame == null) {
        throw new IOException("the agent closed the connection before its request");
      }
      req = Wire.MAPPER.readValue(frame, EnrolMessages.Request.class);
      req.validate();
    } catch (IOException | RuntimeException e) {
      // A malformed request counts as a failure: it may be a probe.
      return refused(peer, null, "malformed enrolment request");
    }
    EnrolmentTokens.Redemption r =
        tokens.redeem(
            req.tokenId(), req.secret(), Optional.ofNullable(req.pool()).map(PoolId::of), agent);
    if (r instanceof EnrolmentTokens.Redemption.Refused no) {
      return refused(peer, no.proven() ? req.tokenId() : null, no.reason());
    }
    EnrolmentTokens.Redemption.Accepted yes = (EnrolmentTokens.Redemption.Accepted) r;
    String name = req.name() != null ? req.name() : "agent-" + agent.substring(0, 12).toLowerCase();
    Optional<InetSocketAddress> listening =
        req.mode().equals("listening")
            ? Optional.of(new InetSocketAddress(peer.getAddress(), req.port()))
            : Optional.empty();
    Enrolled done;
    try {
      done = registrar.register(new Enrolment(yes.tokenId(), yes.pool(), agent, name, listening));
    } catch (WorkerPoolsException e) {
      return refused(peer, yes.tokenId(), e.getMessage());
    }
    enrolled.incrementAndGet();
    LOG.info(
        "enrolled worker {} into pool {} from {} (agent thumbprint {}, token {})",
        done.workerId(),
        yes.pool().value(),
        peer,
        agent,
        yes.tokenId());
    return new EnrolMessages.Reply(
        done.workerId(), yes.pool().value(), done.subscription().orElse(null), null);
  }

  private EnrolMessages.Reply refused(InetSocketAddress peer, String tokenId, String why) {
    refused.incrementAndGet();
    limiter.failed(peer.getAddress());
    LOG.warn(
        "refused an enrolment from {}{}: {}",
        peer,
        tokenId == null ? "" : " (token " + tokenId + ")",
        why);
    return EnrolMessages.Reply.refused(why);
  }

  private static String tooMany() {
    return "too many failed enrolments from this address or in all; try again in a minute";
  }

  private static void reply(OutputStream out, EnrolMessages.Reply reply) throws IOException {
    Frames.write(out, Wire.MAPPER.writeValueAsBytes(reply));
  }

  /** Stops accepting and closes connections in their handshake. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    handshakes.close();
    acceptor.interrupt();
  }

  /** Configures an {@link EnrolmentListener}. */
  public static final class Builder {
    private final TentacleCertificate certificate;
    private final EnrolmentTokens tokens;
    private final Registrar registrar;
    private InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
    private int maxPendingHandshakes = 16;
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private int perAddress = 10;
    private int overall = 100;
    private Clock clock = Clock.systemUTC();

    private Builder(TentacleCertificate certificate, EnrolmentTokens tokens, Registrar registrar) {
      this.certificate = Objects.requireNonNull(certificate, "certificate");
      this.tokens = Objects.requireNonNull(tokens, "tokens");
      this.registrar = Objects.requireNonNull(registrar, "registrar");
    }

    /** The address to listen on (default 127.0.0.1, any free port). */
    public Builder bind(InetSocketAddress bind) {
      this.bind = Objects.requireNonNull(bind, "bind");
      return this;
    }

    /** Connections in their handshake at once (default 16; the newest evicts the oldest). */
    public Builder maxPendingHandshakes(int max) {
      if (max < 1 || max > 1024) {
        throw new ConfigurationException(
            "maxPendingHandshakes", "must be 1 to 1024 but was " + max);
      }
      this.maxPendingHandshakes = max;
      return this;
    }

    /** The absolute deadline of one enrolment, TLS to reply (default 5 s, at least 100 ms). */
    public Builder handshakeTimeout(Duration timeout) {
      if (timeout.toMillis() < 100) {
        throw new ConfigurationException(
            "handshakeTimeout", "must be at least 100 ms but was " + timeout);
      }
      this.handshakeTimeout = timeout;
      return this;
    }

    /**
     * Failed enrolments allowed per minute from one address (default 10) and from all (default
     * 100); beyond, connections are refused without their token being looked at.
     */
    public Builder failureLimits(int perAddress, int overall) {
      if (perAddress < 1 || overall < perAddress) {
        throw new ConfigurationException(
            "failureLimits",
            "need 1 <= perAddress <= overall but was " + perAddress + ", " + overall);
      }
      this.perAddress = perAddress;
      this.overall = overall;
      return this;
    }

    /** The clock of the failure windows (tests pass a manual one). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Binds the port and starts accepting. */
    public EnrolmentListener start() {
      return new EnrolmentListener(this);
    }
  }
}
