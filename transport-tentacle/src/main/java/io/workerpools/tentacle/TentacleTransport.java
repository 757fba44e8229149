package io.workerpools.tentacle;

import io.workerpools.AuthenticationException;
import io.workerpools.ConfigurationException;
import io.workerpools.TransportException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.FileService;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.ListeningPool;
import io.workerpools.tentacle.internal.Messages;
import io.workerpools.tentacle.internal.PeerConnection;
import io.workerpools.tentacle.internal.PollingListener;
import io.workerpools.tentacle.internal.ProtocolViolationException;
import io.workerpools.tentacle.internal.Wire;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.HealthScriptVerdict;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import io.workerpools.transport.WorkerTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of the Tentacle transport: runs scripts on agents in listening mode (endpoint kind
 * {@value #LISTENING}, address {@code https://host:port}, property {@code thumbprint}) and polling
 * mode (kind {@value #POLLING}, address {@code poll://SUBSCRIPTION}, property {@code thumbprint}).
 *
 * <p>Calls are blocking request/reply exchanges run on the transport's bounded pool ({@link
 * Builder#threads}); a running script holds a thread only while one status call is held open on the
 * agent (at most {@link Builder#statusHold}), then the next status call is queued again, so many
 * scripts share the pool fairly. Idempotent calls (start with its host-made ticket, status, cancel,
 * capabilities) are retried on network errors within {@link Builder#retryWindow}; authentication
 * failures are never retried.
 */
public final class TentacleTransport implements WorkerTransport {
  /** The endpoint kind of a listening agent. */
  public static final String LISTENING = "tentacle-listening";

  /** The endpoint kind of a polling agent. */
  public static final String POLLING = "tentacle-polling";

  /** The default port of a listening agent. */
  public static final int DEFAULT_AGENT_PORT = 10933;

  private static final Logger LOG = LoggerFactory.getLogger(TentacleTransport.class);

  private final Builder config;
  private final TentacleCertificate certificate;
  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService timer;
  private final ListeningPool pool;
  private final PollingListener polling;
  private final AtomicInteger threadNo = new AtomicInteger();
  private final java.util.Set<Execution> running =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private TentacleTransport(Builder b) {
    this.config = b;
    this.certificate = b.certificate;
    this.executor =
        new ThreadPoolExecutor(
            b.threads,
            b.threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "tentacle-io-" + threadNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    executor.allowCoreThreadTimeOut(true);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "tentacle-timer");
              t.setDaemon(true);
              return t;
            });
    this.pool =
        new ListeningPool(
            certificate, b.connectTimeout, b.probeAfter, b.maxIdlePerAgent, b.maxFrameBytes);
    this.polling =
        b.pollingBind == null
            ? null
            : new PollingListener(
                certificate, b.pollingBind, executor, timer, b.heartbeat, b.maxFrameBytes);
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
   */
  public void registerPollingAgent(String subscription, String thumbprint) {
    requirePolling()
        .bind(subscription, TentacleCertificate.normalizeThumbprint("thumbprint", thumbprint));
  }

  /** Idle polling connections of a subscription (monitoring, tests). */
  public int idlePollingConnections(String subscription) {
    return requirePolling().idleConnections(subscription);
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

  // ---------------------------------------------------------------- targets

  /** Where one worker's calls go. */
  private interface Target {
    byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
        throws IOException;

    PeerConnection direct() throws IOException;

    void release(PeerConnection c);
  }

  private Target target(Worker worker) {
    Endpoint e = worker.endpoint();
    if (!supports(e)) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.kind",
          "'"
              + e.kind()
              + "' is not served by the Tentacle transport; use "
              + LISTENING
              + " or "
              + POLLING);
    }
    String thumbprint =
        TentacleCertificate.normalizeThumbprint(
            "worker " + worker.id() + ".endpoint.properties.thumbprint", e.require("thumbprint"));
    if (LISTENING.equals(e.kind())) {
      InetSocketAddress address = listeningAddress(worker, e.address());
      return new Target() {
        @Override
        public byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
            throws IOException {
          PeerConnection c = pool.acquire(address, thumbprint);
          try {
            byte[] reply = c.exchange(request, replyTimeout);
            pool.release(address, thumbprint, c);
            return reply;
          } catch (IOException | RuntimeException ex) {
            c.close();
            throw ex;
          }
        }

        @Override
        public PeerConnection direct() throws IOException {
          return pool.acquire(address, thumbprint);
        }

        @Override
        public void release(PeerConnection c) {
          pool.release(address, thumbprint, c);
        }
      };
    }
    String subscription = subscriptionOf(worker, e.address());
    PollingListener l = requirePolling();
    l.bind(subscription, thumbprint);
    return new Target() {
      @Override
      public byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
          throws IOException {
        PollingListener.Pending p = l.send(subscription, request, collectTimeout, replyTimeout);
        try {
          return p.reply().get();
        } catch (InterruptedException ex) {
          p.cancel();
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the polling agent", ex);
        } catch (CancellationException ex) {
          throw new IOException("the request was cancelled", ex);
        } catch (ExecutionException ex) {
          if (ex.getCause() instanceof IOException) {
            throw (IOException) ex.getCause();
          }
          throw new IOException(ex.getCause());
        }
      }

      @Override
      public PeerConnection direct() {
        throw new ConfigurationException(
            "worker " + worker.id(), "file transfer to polling agents is not supported yet");
      }

      @Override
      public void release(PeerConnection c) {}
    };
  }

  static InetSocketAddress listeningAddress(Worker worker, String address) {
    try {
      URI u = URI.create(address);
      if (!"https".equals(u.getScheme()) || u.getHost() == null) {
        throw new IllegalArgumentException("not https://host:port");
      }
      return new InetSocketAddress(u.getHost(), u.getPort() < 0 ? DEFAULT_AGENT_PORT : u.getPort());
    } catch (IllegalArgumentException ex) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.address",
          "'" + address + "' is not a listening agent address: use https://host:port");
    }
  }

  static String subscriptionOf(Worker worker, String address) {
    String s = address.startsWith("poll://") ? address.substring(7) : "";
    if (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    if (!s.matches("[A-Za-z0-9._-]{1,128}")) {
      throw new ConfigurationException(
          "worker " + worker.id() + ".endpoint.address",
          "'"
              + address
              + "' is not a polling address: use poll://SUBSCRIPTION (letters, digits, . _ -)");
    }
    return s;
  }

  // ---------------------------------------------------------------- calls

  /** An error reply from the agent (a bad request): not retried. */
  private static final class RemoteError extends Exception {
    private static final long serialVersionUID = 1L;

    RemoteError(String message) {
      super(message);
    }
  }

  private <T> T callOnce(
      Target t, String type, Object body, Class<T> replyType, Duration hold, Duration collect)
      throws IOException, RemoteError {
    byte[] reply = t.exchange(Wire.request(type, body), hold.plus(config.callTimeout), collect);
    Wire.Reply r = Wire.decodeReply(reply);
    if (r.error() != null) {
      throw new RemoteError("the agent refused '" + type + "': " + r.error());
    }
    return Wire.body(r, replyType);
  }

  /** Tracks whether a failure may have happened after a request left (a transferring failure). */
  private static final class Attempts {
    boolean transferred;
  }

  private <T> T call(
      Worker w,
      Target t,
      String type,
      Object body,
      Class<T> replyType,
      Duration hold,
      Attempts at) {
    long deadline = System.nanoTime() + config.retryWindow.toNanos();
    long backoff = 50;
    while (true) {
      try {
        return callOnce(t, type, body, replyType, hold, config.collectTimeout);
      } catch (PeerConnection.PeerAuthenticationFailure e) {
        throw new AuthenticationException(w.id(), e.getMessage(), e);
      } catch (RemoteError e) {
        throw new TransportException(w.id(), e.getMessage(), false, e);
      } catch (ProtocolViolationException e) {
        throw new TransportException(w.id(), "protocol error: " + e.getMessage(), false, e);
      } catch (IOException e) {
        boolean connecting = e instanceof PeerConnection.ConnectFailure;
        if (!connecting) {
          at.transferred = true;
        }
        boolean collectTimeout = connecting && POLLING.equals(w.endpoint().kind());
        if (collectTimeout
            || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) > deadline) {
          throw new TransportException(w.id(), e.getMessage(), true, e);
        }
        LOG.debug("retrying '{}' on worker {} after: {}", type, w.id(), e.getMessage());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoff));
        backoff = Math.min(2000, backoff * 2);
      }
    }
  }

  // ---------------------------------------------------------------- health

  @Override
  public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
    Target t = target(worker);
    CompletableFuture<HealthReport> f = new CompletableFuture<>();
    executor.execute(
        () -> {
          long t0 = System.nanoTime();
          try {
            Messages.Capabilities caps =
                callOnce(
                    t,
                    "capabilities",
                    new Messages.Empty(),
                    Messages.Capabilities.class,
                    Duration.ZERO,
                    min(config.collectTimeout, request.timeout()));
            Duration latency = Duration.ofNanos(System.nanoTime() - t0);
            Map<String, String> details = new HashMap<>();
            details.put("os", caps.os());
            details.put("freeDiskBytes", Long.toString(caps.freeDiskBytes()));
            details.put("services", String.join(",", caps.services()));
            details.put("agentThumbprint", worker.endpoint().properties().get("thumbprint"));
            if (request.healthScript().isEmpty()) {
              f.complete(
                  new HealthReport(HealthStatus.HEALTHY, Instant.now(), latency, "", details));
              return;
            }
            ScriptRequest script =
                request
                    .healthScript()
                    .get()
                    .withExecutionId("health-" + java.util.UUID.randomUUID());
            HealthReport connectivity =
                new HealthReport(HealthStatus.HEALTHY, Instant.now(), latency, "", details);
            HealthScriptVerdict verdict = new HealthScriptVerdict();
            start(worker, script, verdict)
                .result()
                .whenComplete(
                    (r, e) ->
                        f.complete(
                            e != null
                                ? unavailable(t0, "health script: " + e.getMessage())
                                : verdict.report(r, connectivity, Instant.now(), latency)));
          } catch (PeerConnection.PeerAuthenticationFailure e) {
            f.complete(unavailable(t0, "authentication failed: " + e.getMessage()));
          } catch (IOException | RemoteError | RuntimeException e) {
            f.complete(unavailable(t0, e.getMessage()));
          }
        });
    return f;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static HealthReport unavailable(long t0, String message) {
    return HealthReport.of(
        HealthStatus.UNAVAILABLE, Instant.now(), Duration.ofNanos(System.nanoTime() - t0), message);
  }

  // ---------------------------------------------------------------- scripts

  @Override
  public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(sink, "sink");
    Target t = target(worker);
    Execution e = new Execution(worker, t, request, sink);
    running.add(e);
    e.result.whenComplete((r, x) -> running.remove(e));
    executor.execute(e::doStart);
    return e;
  }

  private final class Execution implements ScriptExecution {
    final Worker worker;
    final Target target;
    final ScriptRequest request;
    final LogSink sink;
    final SensitiveMasker masker;
    final CompletableFuture<ScriptResult> result = new CompletableFuture<>();
    final long startNanos = System.nanoTime();
    volatile boolean cancelRequested;
    volatile boolean started;
    boolean cancelSent;
    long nextSequence;

    Execution(Worker worker, Target target, ScriptRequest request, LogSink sink) {
      this.worker = worker;
      this.target = target;
      this.request = request;
      this.sink = sink;
      this.masker = request.masker();
    }

    @Override
    public String executionId() {
      return request.executionId();
    }

    @Override
    public CompletionStage<ScriptResult> result() {
      return result;
    }

    @Override
    public void cancel() {
      if (result.isDone() || cancelRequested) {
        return;
      }
      cancelRequested = true;
      if (started) {
        executor.execute(this::sendCancel);
      }
    }

    private Duration elapsed() {
      return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    void doStart() {
      if (cancelRequested) {
        finish(
            ScriptResult.of(
                ScriptResult.Outcome.CANCELLED, elapsed(), "cancelled before it started"));
        return;
      }
      Attempts at = new Attempts();
      Messages.ScriptStatus st;
      try {
        st =
            call(
                worker,
                target,
                "script.start",
                startMessage(),
                Messages.ScriptStatus.class,
                config.statusHold,
                at);
      } catch (TransportException e) {
        // An authentication failure too: on a retry, after an earlier attempt that may have
        // arrived (a reset mid-handshake reads as a refusal), the script may be running.
        if (at.transferred) {
          // The start may have arrived: assume it started, and try to stop and clean it up.
          executor.execute(this::abandon);
          finish(
              ScriptResult.of(
                  ScriptResult.Outcome.WORKER_LOST,
                  elapsed(),
                  "lost the connection while starting the script: " + e.getMessage()));
        } else {
          finish(ScriptResult.of(ScriptResult.Outcome.COULD_NOT_START, elapsed(), e.getMessage()));
        }
        return;
      }
      started = true;
      handle(st);
    }

    private Messages.StartScript startMessage() {
      List<Messages.ScriptFileEntry> files = new ArrayList<>();
      for (ScriptRequest.ScriptFile f : request.files()) {
        files.add(
            new Messages.ScriptFileEntry(
                f.name(), Base64.getEncoder().encodeToString(f.content())));
      }
      return new Messages.StartScript(
          request.executionId(),
          request.syntax().name(),
          request.body(),
          request.arguments(),
          request.environment(),
          new ArrayList<>(request.sensitiveValues()),
          files,
          request.timeout().map(Duration::toMillis).orElse(0L),
          request.isolation().name(),
          request.mutexName(),
          request.mutexTimeout().toMillis(),
          config.statusHold.toMillis());
    }

    private void handle(Messages.ScriptStatus st) {
      for (Messages.LogEntry l : st.logs()) {
        if (l.seq() <= nextSequence) {
          continue;
        }
        nextSequence = l.seq();
        LogLine.Source src;
        try {
          src = LogLine.Source.valueOf(l.source());
        } catch (IllegalArgumentException e) {
          src = LogLine.Source.DEBUG;
        }
        try {
          sink.onLine(
              new LogLine(Instant.ofEpochMilli(l.timeMillis()), src, masker.mask(l.text())));
        } catch (RuntimeException e) {
          LOG.warn("a log sink threw: {}", e.toString());
        }
      }
      if ("COMPLETE".equals(st.state())) {
        complete(st);
        return;
      }
      if (cancelRequested && !cancelSent) {
        sendCancel();
      }
      executor.execute(this::doStatus);
    }

    void doStatus() {
      Messages.ScriptStatus st;
      try {
        st =
            call(
                worker,
                target,
                "script.status",
                new Messages.StatusRequest(
                    request.executionId(), nextSequence, config.statusHold.toMillis()),
                Messages.ScriptStatus.class,
                config.statusHold,
                new Attempts());
      } catch (TransportException e) {
        finish(
            ScriptResult.of(
                ScriptResult.Outcome.WORKER_LOST,
                elapsed(),
                "lost contact with the agent while the script ran: " + e.getMessage()));
        return;
      }
      handle(st);
    }

    void sendCancel() {
      synchronized (this) {
        if (cancelSent) {
          return;
        }
        cancelSent = true;
      }
      try {
        call(
            worker,
            target,
            "script.cancel",
            new Messages.TicketRequest(request.executionId()),
            Messages.ScriptStatus.class,
            Duration.ofSeconds(2),
            new Attempts());
      } catch (TransportException e) {
        LOG.warn(
            "cannot cancel {} on worker {}: {}",
            request.executionId(),
            worker.id(),
            e.getMessage());
      }
    }

    void abandon() {
      try {
        call(
            worker,
            target,
            "script.cancel",
            new Messages.TicketRequest(request.executionId()),
            Messages.ScriptStatus.class,
            Duration.ofSeconds(2),
            new Attempts());
        call(
            worker,
            target,
            "script.complete",
            new Messages.TicketRequest(request.executionId()),
            Messages.ScriptStatus.class,
            Duration.ZERO,
            new Attempts());
      } catch (TransportException e) {
        LOG.warn(
            "cannot clean up {} on worker {}: {}",
            request.executionId(),
            worker.id(),
            e.getMessage());
      }
    }

    private void complete(Messages.ScriptStatus st) {
      // The result is known: hand it over first, then tell the agent to delete the workspace (off
      // the caller's critical path; if that call is lost, the agent's retention cleans up).
      finish(toResult(st));
      if (!request.keepWorkingDirectory()) {
        try {
          executor.execute(
              () -> {
                try {
                  call(
                      worker,
                      target,
                      "script.complete",
                      new Messages.TicketRequest(request.executionId()),
                      Messages.ScriptStatus.class,
                      Duration.ZERO,
                      new Attempts());
                } catch (TransportException e) {
                  LOG.debug("cannot complete {}: {}", request.executionId(), e.getMessage());
                }
              });
        } catch (java.util.concurrent.RejectedExecutionException e) {
          LOG.debug("transport closed before completing {}", request.executionId());
        }
      }
    }

    private ScriptResult toResult(Messages.ScriptStatus st) {
      String o = st.outcome() == null ? "UNKNOWN_RESULT" : st.outcome();
      switch (o) {
        case "EXITED":
          return ScriptResult.exited(st.exitCode(), elapsed());
        case "UNKNOWN_TICKET":
          return ScriptResult.of(ScriptResult.Outcome.WORKER_LOST, elapsed(), st.message());
        default:
          try {
            return ScriptResult.of(ScriptResult.Outcome.valueOf(o), elapsed(), st.message());
          } catch (IllegalArgumentException e) {
            return ScriptResult.of(
                ScriptResult.Outcome.UNKNOWN_RESULT,
                elapsed(),
                "the agent reported outcome '" + o + "'");
          }
      }
    }

    private void finish(ScriptResult r) {
      result.complete(r);
    }
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
    Target t = target(worker);
    PeerConnection c = null;
    try {
      c = t.direct();
      byte[] announce = Wire.request("files.upload", new Messages.Upload(path, length, sha256));
      c.writeFrame(announce, 0, announce.length);
      byte[] buf = new byte[FileService.CHUNK];
      int n;
      while ((n = content.readNBytes(buf, 0, buf.length)) > 0) {
        c.writeFrame(buf, 0, n);
      }
      byte[] reply = c.exchange(new byte[0], config.callTimeout); // the empty frame ends the upload
      Wire.Reply r = Wire.decodeReply(reply);
      if (r.error() != null) {
        t.release(c);
        c = null;
        throw new TransportException(worker.id(), "upload refused: " + r.error(), false, null);
      }
      Messages.FileInfo info = Wire.body(r, Messages.FileInfo.class);
      t.release(c);
      c = null;
      return info.fullPath();
    } catch (PeerConnection.PeerAuthenticationFailure e) {
      throw new AuthenticationException(worker.id(), e.getMessage(), e);
    } catch (IOException e) {
      throw new TransportException(
          worker.id(), "upload of '" + path + "' failed: " + e.getMessage(), e);
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  /** Uploads bytes (computes the SHA-256). */
  public String upload(Worker worker, String path, byte[] content) {
    String sha = HexFormat.of().withUpperCase().formatHex(sha256(content));
    return upload(worker, path, new java.io.ByteArrayInputStream(content), content.length, sha);
  }

  /**
   * Downloads {@code path} into {@code out}, checking length and SHA-256; returns the byte count.
   */
  public long download(Worker worker, String path, OutputStream out) {
    Target t = target(worker);
    PeerConnection c = null;
    try {
      c = t.direct();
      byte[] reply =
          c.exchange(
              Wire.request("files.download", new Messages.Download(path)), config.callTimeout);
      Wire.Reply r = Wire.decodeReply(reply);
      if (r.error() != null) {
        t.release(c);
        c = null;
        throw new TransportException(worker.id(), "download refused: " + r.error(), false, null);
      }
      Messages.FileInfo info = Wire.body(r, Messages.FileInfo.class);
      MessageDigest sha = FileService.sha256();
      long total = 0;
      while (true) {
        byte[] chunk = c.readFrame();
        if (chunk.length == 0) {
          break;
        }
        sha.update(chunk);
        out.write(chunk);
        total += chunk.length;
      }
      String digest = HexFormat.of().withUpperCase().formatHex(sha.digest());
      if (total != info.length() || !digest.equals(info.sha256())) {
        throw new TransportException(
            worker.id(),
            "download of '"
                + path
                + "' arrived damaged: expected "
                + info.length()
                + " bytes / "
                + info.sha256()
                + ", got "
                + total
                + " / "
                + digest,
            null);
      }
      t.release(c);
      c = null;
      return total;
    } catch (PeerConnection.PeerAuthenticationFailure e) {
      throw new AuthenticationException(worker.id(), e.getMessage(), e);
    } catch (IOException e) {
      throw new TransportException(
          worker.id(), "download of '" + path + "' failed: " + e.getMessage(), e);
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  private static byte[] sha256(byte[] b) {
    return FileService.sha256().digest(b);
  }

  /**
   * Cancels running executions (a cancel is sent to each agent, waiting up to 5 s in all), then
   * releases connections, the polling port and threads.
   */
  @Override
  public void close() {
    List<Execution> live = new ArrayList<>(running);
    for (Execution e : live) {
      e.cancel();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (Execution e : live) {
      long left = deadline - System.nanoTime();
      try {
        e.result.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException | TimeoutException x) {
        // completed below
      }
      e.result.complete(
          ScriptResult.of(ScriptResult.Outcome.CANCELLED, e.elapsed(), "the transport was closed"));
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

    /** TCP connect and TLS handshake timeout (default 10 s). */
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
