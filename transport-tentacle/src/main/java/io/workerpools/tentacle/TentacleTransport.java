package io.workerpools.tentacle;

import io.workerpools.ConfigurationException;
import io.workerpools.TransportException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Worker;
import io.workerpools.relay.NodeRelay;
import io.workerpools.tentacle.internal.CallSettings;
import io.workerpools.tentacle.internal.Caller;
import io.workerpools.tentacle.internal.FileService;
import io.workerpools.tentacle.internal.FileTransfer;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.HealthProbe;
import io.workerpools.tentacle.internal.ListeningPool;
import io.workerpools.tentacle.internal.PollingListener;
import io.workerpools.tentacle.internal.RelayServer;
import io.workerpools.tentacle.internal.RelayedTarget;
import io.workerpools.tentacle.internal.RemoteScript;
import io.workerpools.tentacle.internal.RunningScripts;
import io.workerpools.tentacle.internal.SharedTimer;
import io.workerpools.tentacle.internal.Target;
import io.workerpools.tentacle.internal.Targets;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * The host side of the Tentacle transport: runs scripts on agents in listening mode (endpoint kind
 * {@value #LISTENING}, address {@code https://host:port}, property {@code thumbprint}) and polling
 * mode (kind {@value #POLLING}, address {@code poll://SUBSCRIPTION}, property {@code thumbprint});
 * see {@link TentacleEndpoint}.
 *
 * <p>Calls are blocking request/reply exchanges run on the transport's bounded pool ({@link
 * Builder#threads}), each under an absolute deadline; a running script holds a thread only while
 * one status call is held open on the agent (at most {@link Builder#statusHold}), then the next
 * status call is queued again, so many scripts share the pool fairly. Idempotent calls (start with
 * its host-made ticket, status, cancel, capabilities) are retried on network errors within {@link
 * Builder#retryWindow}; authentication failures are never retried. Every reply is checked; a bad
 * one ends the script {@code WORKER_LOST}. The host enforces a script's timeout itself ({@link
 * Builder#timeoutGrace}) and a cancel always completes ({@link Builder#cancelGrace}).
 *
 * <p>The polling port authenticates connections on its own bounded handshake budget ({@link
 * Builder#maxPendingHandshakes}, {@link Builder#handshakeTimeout}), apart from the pool.
 */
public final class TentacleTransport implements WorkerTransport {
  /** The endpoint kind of a listening agent. */
  public static final String LISTENING = "tentacle-listening";

  /** The endpoint kind of a polling agent. */
  public static final String POLLING = "tentacle-polling";

  /** The default port of a listening agent. */
  public static final int DEFAULT_AGENT_PORT = 10933;

  private final Builder config;
  private final TentacleCertificate certificate;
  private final ThreadPoolExecutor executor;
  private final ScheduledThreadPoolExecutor timer;
  private final ListeningPool pool;
  private final PollingListener polling;
  private final Caller caller;
  private final FileTransfer files;
  private final RunningScripts running = new RunningScripts();
  private final NodeRelay relay;
  private final RelayServer relayServer;

  private TentacleTransport(Builder b) {
    this.config = b;
    this.certificate = b.certificate;
    this.executor = SharedTimer.callerPool("tentacle-io-", b.threads);
    this.timer = SharedTimer.newTimer("tentacle-timer");
    this.caller =
        new Caller(
            new CallSettings(
                b.retryWindow,
                b.statusHold,
                b.callTimeout,
                b.collectTimeout,
                b.timeoutGrace,
                b.cancelGrace));
    this.files = new FileTransfer(b.callTimeout);
    this.pool =
        new ListeningPool(
            certificate, b.connectTimeout, b.probeAfter, b.maxIdlePerAgent, b.maxFrameBytes, timer);
    this.polling =
        b.pollingBind == null
            ? null
            : new PollingListener(
                certificate,
                b.pollingBind,
                PollingListener.ioPool(b.threads), // never the callers' pool: they wait on it
                timer,
                b.heartbeat,
                b.maxFrameBytes,
                b.maxPendingHandshakes,
                b.handshakeTimeout);
    this.relay = b.relay;
    this.relayServer =
        relay == null || polling == null
            ? null
            : new RelayServer(relay, polling, timer, b.maxFrameBytes);
  }

  /** A builder; {@code certificate} is this host's identity (agents trust its thumbprint). */
  public static Builder builder(TentacleCertificate certificate) {
    return new Builder(certificate);
  }

  /** This host's certificate thumbprint: what agents are started with ({@code --trust}). */
  public String thumbprint() {
    return certificate.thumbprint();
  }

  /** The polling port's address, if a polling listener was configured. */
  public InetSocketAddress pollingAddress() {
    if (polling == null) {
      throw new ConfigurationException(
          "pollingListener",
          "this transport has no polling listener; configure one in the builder");
    }
    return polling.address();
  }

  /**
   * Binds a polling subscription to the agent thumbprint allowed to serve it, so that the agent may
   * connect before any step needs it. (Using a polling worker binds it too.)
   *
   * @throws ConfigurationException if it is bound to another thumbprint (use {@link
   *     #rebindPollingAgent})
   */
  public void registerPollingAgent(String subscription, String thumbprint) {
    requirePolling()
        .bind(subscription, TentacleCertificate.normalizeThumbprint("thumbprint", thumbprint));
  }

  /**
   * Binds a polling subscription to a new agent thumbprint (a rotated or replaced agent key): the
   * connections made with the old certificate are closed at once. Using a polling worker whose
   * endpoint thumbprint changed in the store does the same.
   */
  public void rebindPollingAgent(String subscription, String thumbprint) {
    requirePolling()
        .rebind(subscription, TentacleCertificate.normalizeThumbprint("thumbprint", thumbprint));
  }

  /**
   * Revokes a polling subscription's agent (a compromised key): its binding is removed, its open
   * connections are closed at once and its certificate is refused from now on.
   */
  public void revokePollingAgent(String subscription) {
    requirePolling().unbind(subscription);
  }

  /**
   * Connections opened (attempted) to listening agents so far, successful or not: a reused pooled
   * connection does not count, each retry does (monitoring, tests).
   */
  public long listeningConnectionsOpened() {
    return pool.opened();
  }

  /** Idle polling connections of a subscription (monitoring, tests). */
  public int idlePollingConnections(String subscription) {
    return requirePolling().idleConnections(subscription);
  }

  /** Open authenticated polling connections of a subscription, idle or busy (monitoring, tests). */
  public int pollingConnections(String subscription) {
    return requirePolling().connections(subscription);
  }

  /** Connections to the polling port still in their handshake (monitoring, tests). */
  public int pendingPollingHandshakes() {
    return requirePolling().pendingHandshakes();
  }

  /** Unauthenticated polling connections closed to make room (evicted) or at their deadline. */
  public long pollingHandshakesDropped() {
    PollingListener l = requirePolling();
    return l.handshakesEvicted() + l.handshakesTimedOut();
  }

  private PollingListener requirePolling() {
    if (polling == null) {
      throw new ConfigurationException(
          "pollingListener",
          "polling workers need a polling listener: TentacleTransport.builder(...).pollingListener("
              + "new InetSocketAddress(port))");
    }
    return polling;
  }

  @Override
  public boolean supports(Endpoint endpoint) {
    return LISTENING.equals(endpoint.kind()) || POLLING.equals(endpoint.kind());
  }

  private Target target(Worker worker) {
    TentacleEndpoint e = TentacleEndpoint.of(worker);
    String thumbprint = e.thumbprint();
    if (!e.polling()) {
      return Targets.listening(pool, e.address().orElseThrow(), thumbprint);
    }
    String subscription = e.subscription().orElseThrow();
    if (relay != null) {
      if (polling != null) {
        polling.rebind(subscription, thumbprint);
      }
      return new RelayedTarget(
          polling, relay, subscription, thumbprint, worker.id(), config.maxFrameBytes);
    }
    PollingListener l = requirePolling();
    // The worker's configuration is the truth: a thumbprint changed in the store rebinds.
    l.rebind(subscription, thumbprint);
    return Targets.polling(l, subscription, worker.id());
  }

  // ---------------------------------------------------------------- health

  /**
   * A capabilities call (connectivity, OS, free disk, services), then the health script if the
   * request has one, judged by core's {@code HealthScriptVerdict}. Never fails: an unreachable or
   * refusing agent is {@code UNAVAILABLE}, saying why.
   */
  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Target t = target(worker);
    return HealthProbe.check(
        worker,
        t,
        request,
        caller,
        executor,
        config.collectTimeout,
        (script, sink) -> start(worker, script, sink));
  }

  // ---------------------------------------------------------------- scripts

  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(sink, "sink");
    Target t = target(worker);
    return running
        .track(new RemoteScript(worker.id(), t, request, sink, caller, executor, timer))
        .start();
  }

  // ---------------------------------------------------------------- files

  /**
   * Uploads {@code length} bytes from {@code content} to {@code path} (relative to the agent's
   * files directory), in chunks with a SHA-256 check. Listening agents only. Blocks the caller.
   *
   * @return the full path on the agent
   * @throws TransportException naming what went wrong (a refused path, not enough space, a damaged
   *     transfer)
   */
  public String upload(
      Worker worker, String path, InputStream content, long length, String sha256) {
    return files.upload(worker.id(), target(worker), path, content, length, sha256);
  }

  /** Uploads bytes (computes the SHA-256). */
  public String upload(Worker worker, String path, byte[] content) {
    String sha = HexFormat.of().withUpperCase().formatHex(FileService.sha256().digest(content));
    return upload(worker, path, new java.io.ByteArrayInputStream(content), content.length, sha);
  }

  /**
   * Downloads {@code path} into {@code out}, checking length and SHA-256; returns the byte count.
   * The download is cut as soon as the agent sends more than it announced.
   */
  public long download(Worker worker, String path, OutputStream out) {
    return files.download(worker.id(), target(worker), path, out);
  }

  /**
   * Cancels running executions (a cancel is sent to each agent, waiting up to 5 s in all), then
   * releases connections, the polling port and threads.
   */
  @Override
  public void close() {
    running.cancelAll(5_000);
    if (relayServer != null) {
      relayServer.close();
    }
    if (polling != null) {
      polling.close();
    }
    pool.close();
    executor.shutdownNow();
    timer.shutdownNow();
  }

  /** Configures a {@link TentacleTransport}. */
  public static final class Builder {
    private final TentacleCertificate certificate;
    private int threads = 32;
    private Duration retryWindow = Duration.ofSeconds(150);
    private Duration statusHold = Duration.ofSeconds(10);
    private Duration callTimeout = Duration.ofSeconds(30);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration probeAfter = Duration.ofSeconds(5);
    private int maxIdlePerAgent = 8;
    private int maxFrameBytes = Frames.DEFAULT_MAX_FRAME_BYTES;
    private InetSocketAddress pollingBind;
    private Duration collectTimeout = Duration.ofMinutes(2);
    private Duration heartbeat = Duration.ofSeconds(30);
    private Duration timeoutGrace = Duration.ofSeconds(30);
    private Duration cancelGrace = Duration.ofSeconds(15);
    private int maxPendingHandshakes = PollingListener.DEFAULT_MAX_PENDING_HANDSHAKES;
    private Duration handshakeTimeout = PollingListener.DEFAULT_HANDSHAKE_TIMEOUT;
    private NodeRelay relay;

    private Builder(TentacleCertificate certificate) {
      this.certificate = Objects.requireNonNull(certificate, "certificate");
    }

    /** The bounded pool that runs calls (default 32). */
    public Builder threads(int n) {
      if (n < 1) {
        throw new ConfigurationException("threads", "must be at least 1 but was " + n);
      }
      this.threads = n;
      return this;
    }

    /** How long idempotent calls are retried on network errors (default 2.5 min). */
    public Builder retryWindow(Duration d) {
      this.retryWindow = positive("retryWindow", d);
      return this;
    }

    /** The longest a status call is held open waiting for news (default 10 s). */
    public Builder statusHold(Duration d) {
      this.statusHold = positive("statusHold", d);
      return this;
    }

    /** Reply timeout on top of any hold (default 30 s). */
    public Builder callTimeout(Duration d) {
      this.callTimeout = positive("callTimeout", d);
      return this;
    }

    /**
     * TCP connect timeout, and then the absolute deadline of the TLS handshake and preamble
     * together (default 10 s each).
     */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive("connectTimeout", d);
      return this;
    }

    /** A pooled connection idle longer than this is pinged before reuse (default 5 s). */
    public Builder probeAfter(Duration d) {
      this.probeAfter = Objects.requireNonNull(d, "probeAfter");
      return this;
    }

    /** Idle connections kept per listening agent (default 8). */
    public Builder maxIdlePerAgent(int n) {
      if (n < 0) {
        throw new ConfigurationException("maxIdlePerAgent", "must not be negative but was " + n);
      }
      this.maxIdlePerAgent = n;
      return this;
    }

    /** The largest frame accepted (default 16 MiB). */
    public Builder maxFrameBytes(int n) {
      if (n < 1024) {
        throw new ConfigurationException("maxFrameBytes", "must be at least 1024 but was " + n);
      }
      this.maxFrameBytes = n;
      return this;
    }

    /** Listens for polling agents on this address (port 0: any free port). */
    public Builder pollingListener(InetSocketAddress bind) {
      this.pollingBind = Objects.requireNonNull(bind, "bind");
      return this;
    }

    /** How long a request waits for a polling agent to collect it (default 2 min). */
    public Builder collectTimeout(Duration d) {
      this.collectTimeout = positive("collectTimeout", d);
      return this;
    }

    /** How long a polling connection may sit idle before a heartbeat (default 30 s). */
    public Builder heartbeat(Duration d) {
      this.heartbeat = positive("heartbeat", d);
      return this;
    }

    /**
     * How long past a script's timeout the host waits for the agent to report it (default 30 s);
     * then the host cancels the script itself and reports TIMED_OUT. Also the grace past the mutex
     * timeout for a script the agent keeps PENDING.
     */
    public Builder timeoutGrace(Duration d) {
      this.timeoutGrace = positive("timeoutGrace", d);
      return this;
    }

    /**
     * How long after {@code cancel()} the host waits for the agent to confirm (default 15 s); then
     * the result is CANCELLED anyway.
     */
    public Builder cancelGrace(Duration d) {
      this.cancelGrace = positive("cancelGrace", d);
      return this;
    }

    /**
     * The most connections to the polling port accepted but not yet authenticated (default 64): a
     * newer one evicts the oldest. Handshakes run on their own threads, never on the pool that
     * serves calls.
     */
    public Builder maxPendingHandshakes(int n) {
      if (n < 1 || n > 4096) {
        throw new ConfigurationException("maxPendingHandshakes", "must be 1 to 4096 but was " + n);
      }
      this.maxPendingHandshakes = n;
      return this;
    }

    /**
     * The longest a polling agent's TLS handshake and preamble may take in all (default 5 s), an
     * absolute deadline that dripping bytes cannot stretch.
     */
    public Builder handshakeTimeout(Duration d) {
      Objects.requireNonNull(d, "handshakeTimeout");
      if (d.toMillis() < 100) {
        throw new ConfigurationException(
            "handshakeTimeout", "must be at least 100 ms (a few seconds is usual) but was " + d);
      }
      this.handshakeTimeout = d;
      return this;
    }

    /**
     * Reaches polling agents connected to other host nodes through {@code relay} (for example the
     * JDBC module's {@code PostgresRelay} on the database the nodes share), and serves their calls
     * for the agents connected here. A call to a polling worker goes to this node's own connection
     * of the agent if it has one, else through the relay to a node that announces the agent. Each
     * node needs the subscription bound ({@link #registerPollingAgent}, or using the worker) to
     * accept the agent's connections. The host owns the relay and closes it after the transport.
     * Without a relay (the default) a polling agent is reachable from the node it connects to only.
     */
    public Builder relay(NodeRelay relay) {
      this.relay = Objects.requireNonNull(relay, "relay");
      return this;
    }

    private static Duration positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new ConfigurationException(field, "must be a positive duration but was " + d);
      }
      return d;
    }

    /** Builds the transport (and binds the polling port, if configured). */
    public TentacleTransport build() {
      return new TentacleTransport(this);
    }
  }
}
