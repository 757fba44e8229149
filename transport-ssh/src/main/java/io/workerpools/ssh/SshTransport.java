package io.workerpools.ssh;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.ssh.internal.Bootstrap;
import io.workerpools.ssh.internal.HostKeyAlgorithms;
import io.workerpools.ssh.internal.HostKeyVerification;
import io.workerpools.ssh.internal.PrecomputedKeyExchange;
import io.workerpools.ssh.internal.RemoteExecution;
import io.workerpools.ssh.internal.TransportContext;
import io.workerpools.ssh.internal.WorkerConnection;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.HealthScriptVerdict;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.auth.password.PasswordIdentityProvider;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.core.CoreModuleProperties;

/**
 * Runs bash steps on SSH workers (endpoint kind {@value SshEndpoint#KIND}) through one Apache MINA
 * SSHD client.
 *
 * <ul>
 *   <li>One authenticated session per worker, made on first use, reused by every step and health
 *       check, multiplexed up to {@link Builder#maxChannelsPerWorker} channels (one kept spare for
 *       kill and health commands); made again transparently when it died between steps.
 *   <li>Host keys always verified: against the endpoint's known-hosts file (and {@link
 *       Builder#systemKnownHosts}) or pinned fingerprint. The host-key algorithms of the key types
 *       known for the host are offered first, as OpenSSH does, so a server with several host keys
 *       presents the one the file holds.
 *   <li>Credentials from the host's {@link SshCredentialProvider}; nothing is read from {@code
 *       ~/.ssh}.
 *   <li>The script, its arguments, environment and files travel on stdin, never on a command line.
 *   <li>Cancel and timeout kill the remote process group; a dropped connection gives {@code
 *       WORKER_LOST} within the keep-alive bound.
 * </ul>
 *
 * <p>Thread-safe; {@link #start} and {@link #checkHealth} return at once. Close it to stop its
 * threads and connections.
 */
public final class SshTransport implements WorkerTransport {
  /** The default connect (and authentication) timeout. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /** The default keep-alive interval. */
  public static final Duration DEFAULT_KEEP_ALIVE_INTERVAL = Duration.ofSeconds(15);

  /** The default number of unanswered keep-alives after which a connection counts as lost. */
  public static final int DEFAULT_KEEP_ALIVE_MAX_MISSED = 3;

  /** OpenSSH's default {@code MaxSessions}: concurrent channels on one connection. */
  public static final int DEFAULT_MAX_CHANNELS_PER_WORKER = 10;

  /** The default wait for a killed step's channel to close before it is closed by force. */
  public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(10);

  private final SshClient client;
  private final TransportContext ctx;
  private final boolean ownsExecutor;
  private final ConcurrentHashMap<WorkerId, WorkerConnection> connections =
      new ConcurrentHashMap<>();
  private final Set<RemoteExecution> running = ConcurrentHashMap.newKeySet();
  private final Duration keepAliveBound;
  private volatile boolean closed;

  private SshTransport(Builder b) {
    ExecutorService executor = b.executor;
    ownsExecutor = executor == null;
    if (executor == null) {
      AtomicInteger n = new AtomicInteger();
      executor =
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "workerpools-ssh-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
    }
    client = SshClient.setUpDefaultClient();
    // Same algorithms and order as MINA's default; the post-quantum key pair is made ahead of time.
    client.setKeyExchangeFactories(PrecomputedKeyExchange.clientKeyExchanges(executor, 2));
    // Never pick up the user's ~/.ssh/config, keys or passwords by accident.
    client.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
    client.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
    client.setPasswordIdentityProvider(PasswordIdentityProvider.EMPTY_PASSWORDS_PROVIDER);
    client.setUserInteraction(null);
    // OpenSSH's preference (ed25519 first); per session, the key types known for the host first.
    client.setSignatureFactories(HostKeyAlgorithms.opensshOrder(client.getSignatureFactories()));
    // Replaces the accept-all verifier setUpDefaultClient() installs.
    HostKeyVerification verification = new HostKeyVerification(client.getSignatureFactories());
    client.setServerKeyVerifier(verification);
    client.addSessionListener(verification);
    CoreModuleProperties.TCP_NODELAY.set(client, true);
    CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, b.keepAliveInterval);
    CoreModuleProperties.HEARTBEAT_REPLY_WAIT.set(client, b.keepAliveInterval);
    CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, b.keepAliveMaxMissed);
    // Heartbeats keep a silent step alive; MINA's own idle timeout would end it after 10 minutes.
    CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ZERO);
    CoreModuleProperties.AUTH_TIMEOUT.set(client, b.connectTimeout);
    CoreModuleProperties.IO_CONNECT_TIMEOUT.set(client, b.connectTimeout);
    client.start();
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "workerpools-ssh-timer");
              t.setDaemon(true);
              return t;
            });
    ctx =
        new TransportContext(
            client,
            executor,
            scheduler,
            b.credentials,
            b.connectTimeout,
            b.killGrace,
            b.maxChannelsPerWorker,
            b.alwaysTemporaryDirectory,
            b.systemKnownHosts);
    keepAliveBound = b.keepAliveInterval.multipliedBy(b.keepAliveMaxMissed + 1L);
  }

  /**
   * A worker builder for an SSH worker: it advertises bash only, which is all this transport runs,
   * so the resolver passes it over (reason {@code WRONG_SYNTAX}) for a step of another syntax.
   */
  public static Worker.Builder bashWorker(String id) {
    return Worker.builder(id).syntaxes(ScriptSyntax.BASH);
  }

  /** A builder; the credential provider is the one thing a host must give. */
  public static Builder builder(SshCredentialProvider credentials) {
    return new Builder(credentials);
  }

  /**
   * How long a dead connection can go unnoticed at most: keep-alive interval × (max missed + 1). A
   * connection whose peer closes it (process killed, host rebooted) is noticed at once.
   */
  public Duration keepAliveBound() {
    return keepAliveBound;
  }

  @Override
  public boolean supports(Endpoint endpoint) {
    return endpoint != null && SshEndpoint.KIND.equals(endpoint.kind());
  }

  /**
   * Starts a bash script on the worker.
   *
   * @throws ConfigurationException if the worker's endpoint is not a valid SSH endpoint, the script
   *     is not bash, or the request asks to run as another user (an SSH worker runs as its login
   *     user)
   */
  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(sink, "sink");
    if (request.syntax() != ScriptSyntax.BASH) {
      throw new ConfigurationException(
          "syntax",
          "SSH worker "
              + worker.id()
              + " runs bash only but the script is "
              + request.syntax()
              + "; send it to a worker that advertises "
              + request.syntax());
    }
    if (request.runAsUser().isPresent()) {
      throw new ConfigurationException(
          "runAsUser",
          "an SSH worker runs scripts as its login user; set the endpoint's 'user' instead");
    }
    request.arguments().forEach(a -> Bootstrap.checkField("arguments", a));
    request.environment().values().forEach(v -> Bootstrap.checkField("environment", v));
    WorkerConnection conn = connection(worker);
    RemoteExecution exec = new RemoteExecution(ctx, conn, request, sink, running::remove);
    running.add(exec);
    if (closed) {
      exec.failed(
          new io.workerpools.TransportException(
              worker.id(), "the SSH transport is closed", false, null));
      return exec;
    }
    exec.start();
    return exec;
  }

  /**
   * Opens the worker's session now (or finds it open) without running anything: a host can warm its
   * workers up before the first step. Completes exceptionally with a {@link
   * io.workerpools.TransportException} ({@link io.workerpools.AuthenticationException} for refused
   * credentials or host keys) if no session can be made.
   */
  public CompletionStage<Void> connect(Worker worker) {
    WorkerConnection conn = connection(worker);
    CompletableFuture<Void> done = new CompletableFuture<>();
    conn.acquire(
        true,
        new WorkerConnection.SlotUser() {
          @Override
          public void granted(org.apache.sshd.client.session.ClientSession session) {
            conn.release();
            done.complete(null);
          }

          @Override
          public void failed(io.workerpools.TransportException error) {
            done.completeExceptionally(error);
          }
        });
    return done;
  }

  /**
   * Reuses (or makes) the worker's session, runs {@code uname -srm} and reports the round trip as
   * latency and the remote OS as detail {@code os}; then the health script, if any.
   */
  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Objects.requireNonNull(request, "request");
    long t0 = System.nanoTime();
    WorkerConnection conn;
    try {
      conn = connection(worker);
    } catch (ConfigurationException e) {
      return CompletableFuture.completedFuture(
          HealthReport.of(HealthStatus.UNAVAILABLE, Instant.now(), Duration.ZERO, e.getMessage()));
    }
    CompletableFuture<HealthReport> report =
        conn.runControl(Bootstrap.HEALTH_COMMAND, new byte[0])
            .thenCompose(
                r -> {
                  Duration latency = Duration.ofNanos(System.nanoTime() - t0);
                  Map<String, String> details = new LinkedHashMap<>();
                  details.put("os", r.stdout().lines().findFirst().orElse("").trim());
                  details.put("endpoint", conn.endpoint().hostAndPort());
                  if (r.exitStatus() == null || r.exitStatus() != 0) {
                    return CompletableFuture.completedFuture(
                        new HealthReport(
                            HealthStatus.UNHEALTHY,
                            Instant.now(),
                            latency,
                            "'" + Bootstrap.HEALTH_COMMAND + "' exited with " + r.exitStatus(),
                            details));
                  }
                  if (request.healthScript().isEmpty()) {
                    return CompletableFuture.completedFuture(
                        new HealthReport(
                            HealthStatus.HEALTHY, Instant.now(), latency, "", details));
                  }
                  return runHealthScript(worker, request.healthScript().get(), latency, details);
                })
            .exceptionally(
                t -> {
                  Throwable c =
                      t instanceof java.util.concurrent.CompletionException ? t.getCause() : t;
                  return HealthReport.of(
                      HealthStatus.UNAVAILABLE,
                      Instant.now(),
                      Duration.ofNanos(System.nanoTime() - t0),
                      c.getMessage());
                });
    return report
        .orTimeout(request.timeout().toNanos(), TimeUnit.NANOSECONDS)
        .exceptionally(
            t -> {
              Throwable c =
                  t instanceof java.util.concurrent.CompletionException ? t.getCause() : t;
              String msg =
                  c instanceof TimeoutException
                      ? "no answer within " + request.timeout()
                      : String.valueOf(c.getMessage());
              return HealthReport.of(
                  HealthStatus.UNAVAILABLE,
                  Instant.now(),
                  Duration.ofNanos(System.nanoTime() - t0),
                  msg);
            });
  }

  private CompletionStage<HealthReport> runHealthScript(
      Worker worker, ScriptRequest script, Duration latency, Map<String, String> details) {
    HealthReport connectivity =
        new HealthReport(HealthStatus.HEALTHY, Instant.now(), latency, "", details);
    HealthScriptVerdict verdict = new HealthScriptVerdict();
    return start(worker, script, verdict)
        .result()
        .thenApply(r -> verdict.report(r, connectivity, Instant.now(), latency));
  }

  private WorkerConnection connection(Worker worker) {
    Objects.requireNonNull(worker, "worker");
    SshEndpoint ep = SshEndpoint.parse(worker.endpoint());
    WorkerConnection c =
        connections.computeIfAbsent(worker.id(), id -> new WorkerConnection(ctx, worker, ep));
    c.update(worker, ep);
    return c;
  }

  /** Cancels running steps, closes every session and stops the client and threads. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (RemoteExecution e : List.copyOf(running)) {
      e.cancel();
    }
    long deadline = System.nanoTime() + ctx.killGrace().toNanos();
    for (RemoteExecution e : List.copyOf(running)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        e.result().toCompletableFuture().get(left, TimeUnit.NANOSECONDS);
      } catch (Exception ignored) {
        // Closing anyway.
      }
    }
    connections.values().forEach(WorkerConnection::close);
    connections.clear();
    try {
      client.stop();
      client.close();
    } catch (IOException ignored) {
      // Nothing more to do.
    }
    ctx.scheduler().shutdownNow();
    if (ownsExecutor) {
      ctx.executor().shutdownNow();
    }
  }

  /** Builds an {@link SshTransport}; every option is checked when set. */
  public static final class Builder {
    private final SshCredentialProvider credentials;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration keepAliveInterval = DEFAULT_KEEP_ALIVE_INTERVAL;
    private int keepAliveMaxMissed = DEFAULT_KEEP_ALIVE_MAX_MISSED;
    private int maxChannelsPerWorker = DEFAULT_MAX_CHANNELS_PER_WORKER;
    private Duration killGrace = DEFAULT_KILL_GRACE;
    private boolean alwaysTemporaryDirectory;
    private List<Path> systemKnownHosts = List.of();
    private ExecutorService executor;

    private Builder(SshCredentialProvider credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    /** Bounds connecting plus authenticating. Default {@link #DEFAULT_CONNECT_TIMEOUT}. */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = positive("connectTimeout", d);
      return this;
    }

    /** How often an idle session is probed. Default {@link #DEFAULT_KEEP_ALIVE_INTERVAL}. */
    public Builder keepAliveInterval(Duration d) {
      this.keepAliveInterval = positive("keepAliveInterval", d);
      return this;
    }

    /** Unanswered probes before the connection counts as lost. Default 3. */
    public Builder keepAliveMaxMissed(int n) {
      if (n < 1) {
        throw new ConfigurationException("keepAliveMaxMissed", "must be at least 1 but was " + n);
      }
      this.keepAliveMaxMissed = n;
      return this;
    }

    /**
     * Concurrent channels per worker, as the server allows (OpenSSH {@code MaxSessions}, default
     * 10); one is kept spare for kill and health commands. An endpoint may override it.
     */
    public Builder maxChannelsPerWorker(int n) {
      if (n < 2) {
        throw new ConfigurationException(
            "maxChannelsPerWorker",
            "must be at least 2 (one channel is kept spare for cancellation) but was " + n);
      }
      this.maxChannelsPerWorker = n;
      return this;
    }

    /** How long a killed step's channel may stay open before it is closed by force. */
    public Builder killGrace(Duration d) {
      this.killGrace = positive("killGrace", d);
      return this;
    }

    /**
     * Whether every step gets a private temporary directory as its working directory. Default
     * {@code false}: a step with files (or {@link ScriptRequest#keepWorkingDirectory()}) gets one,
     * with the files beside the script, and is removed afterwards; a step without files runs in the
     * login user's home directory as a single remote process (no {@code mkdir}, {@code cat}, {@code
     * rm}), which is what makes it as fast as OpenSSH's own client. Set {@code true} if scripts
     * rely on starting in an empty private directory.
     */
    public Builder alwaysTemporaryDirectory(boolean always) {
      this.alwaysTemporaryDirectory = always;
      return this;
    }

    /**
     * Known-hosts files read for every worker verified against a known-hosts file, after the
     * endpoint's own (OpenSSH's {@code GlobalKnownHostsFile}, such as {@code
     * /etc/ssh/ssh_known_hosts}); never written. A file that does not exist holds no keys; one that
     * cannot be read or holds a broken line fails the connection, naming the file and the line.
     * Default: none (nothing is read that the host did not name).
     */
    public Builder systemKnownHosts(Path... files) {
      this.systemKnownHosts = List.of(files);
      return this;
    }

    /**
     * The executor for connects, stdin writes and log delivery (never MINA's I/O threads). The
     * transport does not shut a given executor down. Default: an owned cached pool of daemon
     * threads.
     */
    public Builder executor(ExecutorService executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    public SshTransport build() {
      return new SshTransport(this);
    }

    private static Duration positive(String field, Duration d) {
      if (d == null || d.isZero() || d.isNegative()) {
        throw new ConfigurationException(field, "must be a positive duration but was " + d);
      }
      return d;
    }
  }
}
