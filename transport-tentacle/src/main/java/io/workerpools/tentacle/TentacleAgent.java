package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.tentacle.internal.AgentServices;
import io.workerpools.tentacle.internal.FileService;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.ListeningServer;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.PollingClient;
import io.workerpools.tentacle.internal.ProtocolVersions;
import io.workerpools.tentacle.internal.ScriptService;
import io.workerpools.tentacle.internal.TrustedConnections;
import io.workerpools.tentacle.internal.TrustedHosts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent that runs on a worker machine, in-process. {@link AgentMain} wraps it as a command line
 * program; tests and embedding hosts use it directly.
 *
 * <p>Listening mode ({@link Builder#listen}): accepts TLS connections from trusted hosts; one
 * connection serves one request at a time. Polling mode ({@link Builder#poll}): keeps {@code
 * connections} TLS connections open to the host's polling port and serves the requests the host
 * sends down them, reconnecting forever with jittered exponential back-off.
 *
 * <p>Threads: listening mode has one acceptor thread and a bounded pool of connection threads. A
 * connection that has not finished its TLS handshake holds no connection slot: at most {@link
 * Builder#maxPendingHandshakes} wait in their handshake at once (a newer one evicts the oldest),
 * each for at most {@link Builder#handshakeTimeout} in all, so strangers flooding the port cannot
 * lock out a trusted host. Only authenticated connections count against {@link
 * Builder#maxConnections} (one beyond it is closed); every connection has a read timeout, so none
 * blocks forever. Polling mode has one thread per configured connection. Scripts use the script
 * service's own pool.
 */
public final class TentacleAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TentacleAgent.class);

  /** What happens to running scripts on {@link #close()}. */
  public enum ShutdownMode {
    /** Wait for running scripts up to the shutdown timeout, then cancel what still runs. */
    FINISH,
    /** Cancel running scripts at once. */
    CANCEL
  }

  private final Builder config;
  private final TentacleCertificate certificate;
  private final SSLContext ssl;
  private final TrustedHosts trust;
  private final TrustedConnections connections;
  private final ScriptService scripts;
  private final AgentServices services;
  private final CountDownLatch closed = new CountDownLatch(1);
  private ListeningServer listening;
  private PollingClient polling;

  private TentacleAgent(Builder b) {
    this.config = b;
    try {
      io.workerpools.tentacle.internal.OwnerOnly.createDirectories(b.home);
    } catch (IOException e) {
      throw new ConfigurationException(
          "home", "cannot create the agent's home " + b.home + ": " + e.getMessage(), e);
    }
    this.certificate =
        b.certificate != null
            ? b.certificate
            : TentacleCertificate.loadOrCreate(b.home.resolve("certificate"), "workerpools-agent");
    this.trust = new TrustedHosts(b.trusted, AgentTrust.of(b.home), b.trustCheckInterval);
    if (trust.get().isEmpty()) {
      throw new ConfigurationException(
          "trust",
          "the agent must trust at least one host thumbprint: store one (configure --trust"
              + " THUMBPRINT, file "
              + AgentTrust.of(b.home).file()
              + ") or give --trust THUMBPRINT at start");
    }
    this.connections = new TrustedConnections(trust);
    trust.onChange(
        now -> {
          int cut = connections.cut(now);
          if (cut > 0) {
            LOG.info("closed {} connection(s) of hosts no longer trusted", cut);
          }
        });
    this.ssl = PinnedTls.context(certificate, trust);
    this.scripts = new ScriptService(b.home.resolve("work"), b.workspaceRetention);
    this.services =
        new AgentServices(
            scripts, new FileService(b.home.resolve("files"), b.reserveBytes), b.maxFrameBytes);
  }

  /**
   * A builder for an agent whose state (certificate, workspaces, files) lives under {@code home}.
   */
  public static Builder builder(Path home) {
    return new Builder(home);
  }

  /** This agent's certificate thumbprint: what the host registers. */
  public String thumbprint() {
    return certificate.thumbprint();
  }

  /**
   * The listening address (listening mode only).
   *
   * @throws ConfigurationException (field {@code listen}) if this agent was built to poll
   */
  public InetSocketAddress listeningAddress() {
    if (listening == null) {
      throw new ConfigurationException("listen", "this agent is not in listening mode");
    }
    return listening.address();
  }

  /** How many polling connection attempts have failed so far (polling mode). */
  public int pollingFailures() {
    return polling == null ? 0 : polling.failures();
  }

  /**
   * How many connections were closed unauthenticated because newer ones needed their handshake slot
   * (listening mode; see {@link Builder#maxPendingHandshakes}).
   */
  public long handshakesEvicted() {
    return listening == null ? 0 : listening.handshakesEvicted();
  }

  /** How many connections were closed because their handshake missed its deadline. */
  public long handshakesTimedOut() {
    return listening == null ? 0 : listening.handshakesTimedOut();
  }

  /** How many polling connections are currently established (polling mode). */
  public int pollingConnections() {
    return polling == null ? 0 : polling.connected();
  }

  /**
   * The host thumbprints this agent trusts now: those given to {@link Builder#trust} plus those
   * stored in its home ({@link AgentTrust}), re-read if the stored file changed.
   */
  public Set<String> trustedHosts() {
    return trust.get();
  }

  /** Open authenticated connections with the host presenting {@code hostThumbprint}. */
  public int connectionsWith(String hostThumbprint) {
    return connections.count(TentacleCertificate.normalizeThumbprint("host", hostThumbprint));
  }

  private TentacleAgent start() {
    trust.start();
    if (config.listenPort >= 0) {
      listening =
          new ListeningServer(
              ssl,
              connections,
              config.protocolVersions,
              services,
              config.bindHost,
              config.listenPort,
              config.maxConnections,
              config.maxPendingHandshakes,
              config.handshakeTimeout,
              config.idleTimeout);
    } else {
      polling =
          new PollingClient(
              ssl,
              connections,
              config.protocolVersions,
              services,
              config.server,
              config.subscription,
              config.connections,
              config.handshakeTimeout,
              config.minBackoff,
              config.maxBackoff);
    }
    return this;
  }

  /**
   * Jittered exponential back-off of polling mode: a random delay in [d/2, d] with d = min(max, min
   * * 2^attempt).
   */
  long backoff(int attempt) {
    return polling.backoff(attempt);
  }

  /**
   * Stops: no new connections; running scripts finish (up to the shutdown timeout) or are
   * cancelled, as configured; then connections close and threads stop.
   */
  @Override
  public void close() {
    if (closed.getCount() == 0) {
      return;
    }
    if (listening != null) {
      listening.stopAccepting();
    }
    if (config.shutdownMode == ShutdownMode.FINISH) {
      try {
        scripts.awaitIdle(config.shutdownTimeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closed.countDown();
    trust.close();
    scripts.close();
    if (listening != null) {
      listening.close();
    }
    if (polling != null) {
      polling.close();
    }
  }

  /**
   * Configures a {@link TentacleAgent}. Required: at least one trusted thumbprint (given to {@link
   * #trust} or stored with {@link AgentTrust}), and one of {@link #listen} or {@link #poll}.
   */
  public static final class Builder {
    private final Path home;
    private final Set<String> trusted = new LinkedHashSet<>();
    private TentacleCertificate certificate;
    private String bindHost = "127.0.0.1";
    private int listenPort = -1;
    private InetSocketAddress server;
    private String subscription;
    private int connections = Math.max(5, Runtime.getRuntime().availableProcessors());
    private int maxConnections = 64;
    private int maxFrameBytes = Frames.DEFAULT_MAX_FRAME_BYTES;
    private int maxPendingHandshakes = 16;
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration minBackoff = Duration.ofSeconds(5);
    private Duration maxBackoff = Duration.ofMinutes(2);
    private Duration workspaceRetention = Duration.ofDays(7);
    private long reserveBytes = 64L * 1024 * 1024;
    private ShutdownMode shutdownMode = ShutdownMode.CANCEL;
    private Duration shutdownTimeout = Duration.ofSeconds(30);
    private Duration trustCheckInterval = Duration.ofSeconds(1);
    private ProtocolVersions protocolVersions = ProtocolVersions.CURRENT;

    private Builder(Path home) {
      this.home = Objects.requireNonNull(home, "home");
    }

    /**
     * Trusts a host's thumbprint (64 hex digits, any case) for this run, in addition to those
     * stored in the home ({@link AgentTrust}, {@code configure --trust}), which are re-read while
     * the agent runs. A thumbprint given here is not stored and cannot be removed while this agent
     * runs.
     */
    public Builder trust(String thumbprint) {
      trusted.add(TentacleCertificate.normalizeThumbprint("trust", thumbprint));
      return this;
    }

    /** Uses this certificate instead of loading or creating one under {@code home/certificate}. */
    public Builder certificate(TentacleCertificate certificate) {
      this.certificate = certificate;
      return this;
    }

    /** Listening mode, on {@code bindHost:port} (port 0: any free port). */
    public Builder listen(String bindHost, int port) {
      if (port < 0 || port > 65535) {
        throw new ConfigurationException("port", "must be 0 to 65535 but was " + port);
      }
      this.bindHost = Objects.requireNonNull(bindHost, "bindHost");
      this.listenPort = port;
      return this;
    }

    /** Polling mode: connects to the host's polling port as {@code subscription}. */
    public Builder poll(InetSocketAddress server, String subscription, int connections) {
      if (subscription == null || !subscription.matches("[A-Za-z0-9._-]{1,128}")) {
        throw new ConfigurationException(
            "subscription",
            "'" + subscription + "' is not valid: use 1 to 128 letters, digits, '.', '_' or '-'");
      }
      if (connections < 1 || connections > 64) {
        throw new ConfigurationException("connections", "must be 1 to 64 but was " + connections);
      }
      this.server = Objects.requireNonNull(server, "server");
      this.subscription = subscription;
      this.connections = connections;
      return this;
    }

    /**
     * The most authenticated connections served at once in listening mode (default 64); connections
     * still in their handshake are bounded by {@link #maxPendingHandshakes} instead.
     */
    public Builder maxConnections(int max) {
      if (max < 1) {
        throw new ConfigurationException("maxConnections", "must be at least 1 but was " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /** The largest frame accepted (default 16 MiB). */
    public Builder maxFrameBytes(int max) {
      if (max < 1024) {
        throw new ConfigurationException("maxFrameBytes", "must be at least 1024 but was " + max);
      }
      this.maxFrameBytes = max;
      return this;
    }

    /** The reconnect back-off range of polling mode (default 5 s to 2 min, jittered). */
    public Builder reconnectBackoff(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new ConfigurationException(
            "reconnectBackoff", "needs 0 < min <= max but was " + min + ", " + max);
      }
      this.minBackoff = min;
      this.maxBackoff = max;
      return this;
    }

    /**
     * The longest a TLS handshake may take in all, from accept to authentication (default 5 s);
     * also the read timeout of the preamble and, in polling mode, of connect and handshake.
     */
    public Builder handshakeTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 100 || timeout.toMillis() > Integer.MAX_VALUE) {
        throw new ConfigurationException(
            "handshakeTimeout",
            "must be at least 100 ms (a few seconds is usual) but was " + timeout);
      }
      this.handshakeTimeout = timeout;
      return this;
    }

    /**
     * The most connections still in their TLS handshake at once, in listening mode (default 16).
     * When full, a new connection evicts the oldest unauthenticated one: a trusted host's handshake
     * takes milliseconds, so silent strangers are what gets evicted.
     */
    public Builder maxPendingHandshakes(int max) {
      if (max < 1 || max > 1024) {
        throw new ConfigurationException(
            "maxPendingHandshakes", "must be 1 to 1024 but was " + max);
      }
      this.maxPendingHandshakes = max;
      return this;
    }

    /** How long a connection may sit idle before the agent closes it (default 5 min). */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Workspaces older than this are deleted at start (default 7 days). */
    public Builder workspaceRetention(Duration retention) {
      this.workspaceRetention = Objects.requireNonNull(retention, "retention");
      return this;
    }

    /** What {@link TentacleAgent#close()} does to running scripts (default: cancel them). */
    public Builder shutdown(ShutdownMode mode, Duration timeout) {
      this.shutdownMode = Objects.requireNonNull(mode, "mode");
      this.shutdownTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * How often the running agent checks its stored trust file when no file-system event arrives
     * (default 1 s; a handshake always checks it first).
     */
    public Builder trustCheckInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.toMillis() < 10) {
        throw new ConfigurationException(
            "trustCheckInterval", "must be at least 10 ms but was " + interval);
      }
      this.trustCheckInterval = interval;
      return this;
    }

    /**
     * Test only (package-private, so a release build cannot enable it): the protocol versions this
     * agent announces and accepts, to run an agent of another version beside this build's host.
     */
    Builder protocolVersions(int min, int max) {
      this.protocolVersions = new ProtocolVersions(min, max);
      return this;
    }

    /**
     * Starts the agent.
     *
     * @throws ConfigurationException if it trusts no host (neither stored nor given), the stored
     *     trust file is invalid (the message names the file and line), or no mode was chosen
     */
    public TentacleAgent start() {
      if (listenPort < 0 && server == null) {
        throw new ConfigurationException("mode", "choose listen(...) or poll(...)");
      }
      try {
        return new TentacleAgent(this).start();
      } catch (WorkerPoolsException e) {
        throw e;
      }
    }
  }
}
