package io.workerpools.jdbc.relay;

import io.workerpools.ConfigurationException;
import io.workerpools.relay.NodeRelay;
import io.workerpools.relay.RelayCall;
import io.workerpools.relay.RelayException;
import io.workerpools.relay.RelayException.Reason;
import io.workerpools.relay.RelayHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * A {@link NodeRelay} on PostgreSQL, with nothing but the database the nodes already share: a
 * request table and a reply table whose rows are announced with {@code NOTIFY} on the receiving
 * node's channel, and a table of announcements (which node holds which address, expiring unless
 * refreshed). Every instant is on the database's clock.
 *
 * <pre>{@code
 * PostgresRelay relay = PostgresRelay.builder(dataSource).nodeId("node-a").build();
 * TentacleTransport tentacle =
 *     TentacleTransport.builder(cert).pollingListener(bind).relay(relay).build();
 * }</pre>
 *
 * <p>A call: the caller inserts the request and notifies the holder's channel in one statement; the
 * holder's listening thread takes (deletes) the row, runs the {@link RelayHandler} and inserts the
 * reply the same way; the caller takes (deletes) it. A missed notice (a dropped LISTEN connection)
 * is made good by a sweep after every reconnect and every {@link Builder#sweepInterval}, which also
 * deletes expired rows. A call whose deadline passes while its row is still untaken is withdrawn
 * (provably never delivered, {@link RelayException#mayHaveBeenDelivered()} false).
 *
 * <p>Threads and connections: one thread holds a pooled connection for {@code LISTEN} for the
 * relay's life; a bounded pool ({@link Builder#threads}) runs the statements and the handler; one
 * timer refreshes announcements (every third of {@link Builder#announcementTtl}) and ends waits at
 * their deadlines. Each statement takes a connection from the {@link DataSource} and returns it.
 * The data source must give PostgreSQL connections (pgjdbc, or a pool wrapping it).
 *
 * <p>Schema: the tables {@code wp_relay_holders}, {@code wp_relay_requests} and {@code
 * wp_relay_replies} (see {@code relay-schema-postgresql.sql} beside this class), created
 * idempotently at start unless {@link Builder#createSchema}{@code (false)}.
 */
public final class PostgresRelay implements NodeRelay {
  /** The default largest payload: 16 MiB and 64 KiB (a full Tentacle frame and its header). */
  public static final int DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024 + 64 * 1024;

  /** The default announcement lifetime: a dead node stops being a holder this long after. */
  public static final Duration DEFAULT_ANNOUNCEMENT_TTL = Duration.ofSeconds(15);

  private static final Pattern NODE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final int MAX_ERROR = 2000;

  private final String nodeId;
  private final String channel;
  private final int maxPayload;
  private final long ttlMs;
  private final RelaySql sql;
  private final ThreadPoolExecutor pool;
  private final ScheduledThreadPoolExecutor timer;
  private final NotificationLoop loop;
  private final Set<String> announced = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, CompletableFuture<byte[]>> waiting =
      new ConcurrentHashMap<>();
  private final Served served;
  private volatile boolean closed;

  private PostgresRelay(Builder b) {
    this.nodeId = b.nodeId;
    this.channel = channelOf(nodeId);
    this.maxPayload = b.maxPayloadBytes;
    this.ttlMs = b.ttl.toMillis();
    this.sql = new RelaySql(b.dataSource);
    this.pool = Threads.pool("workerpools-relay-" + nodeId, b.threads);
    this.timer = Threads.timer("workerpools-relay-timer-" + nodeId);
    this.served = new Served(sql, nodeId, maxPayload, pool);
    if (b.createSchema) {
      try {
        sql.createSchema();
      } catch (SQLException e) {
        pool.shutdownNow();
        timer.shutdownNow();
        throw new RelayException(
            Reason.STORE_FAILURE,
            false,
            "cannot create the relay's tables: "
                + e.getMessage()
                + " (grant CREATE, or create them from relay-schema-postgresql.sql and build"
                + " with createSchema(false))",
            e);
      }
    }
    this.loop =
        new NotificationLoop(
            b.dataSource,
            channel,
            "workerpools-relay-listen-" + nodeId,
            b.sweepInterval.toMillis(),
            pool,
            this::onNotice,
            () -> pool.execute(this::afterReconnect));
    long refresh = Math.max(1, ttlMs / 3);
    timer.scheduleWithFixedDelay(
        () -> execute(this::refresh), refresh, refresh, TimeUnit.MILLISECONDS);
    long sweep = b.sweepInterval.toMillis();
    timer.scheduleWithFixedDelay(() -> execute(this::sweep), sweep, sweep, TimeUnit.MILLISECONDS);
    loop.start();
  }

  /** A builder over the host's pooled data source (the one the JDBC store uses is fine). */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /** The NOTIFY channel of a node: {@code wp_relay_} and 20 hex digits of its id's SHA-256. */
  static String channelOf(String node) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(node.getBytes(StandardCharsets.UTF_8));
      return "wp_relay_" + HexFormat.of().formatHex(h, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String nodeId() {
    return nodeId;
  }

  @Override
  public int maxPayloadBytes() {
    return maxPayload;
  }

  /** Whether the LISTEN connection is up now (monitoring, tests). */
  public boolean listening() {
    return loop.listening();
  }

  /** How many times the LISTEN connection was established (monitoring, tests). */
  public long listenConnects() {
    return loop.connects();
  }

  @Override
  public void announce(String address) {
    RelayCall.requireAddress(address);
    if (announced.add(address)) {
      execute(() -> sql.announce(nodeId, List.of(address), ttlMs));
    }
  }

  @Override
  public void withdraw(String address) {
    if (announced.remove(address)) {
      execute(() -> sql.withdraw(nodeId, address));
    }
  }

  @Override
  public Optional<String> holder(String address) {
    RelayCall.requireAddress(address);
    requireOpen();
    try {
      return sql.holder(address, nodeId);
    } catch (SQLException e) {
      throw new RelayException(
          Reason.STORE_FAILURE, false, "cannot look up who holds " + address + ": " + e, e);
    }
  }

  @Override
  public CompletionStage<byte[]> call(String node, RelayCall call) {
    Objects.requireNonNull(call, "call");
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    if (node == null || !NODE.matcher(node).matches()) {
      throw new ConfigurationException("node", "not a relay node id: '" + node + "'");
    }
    if (closed) {
      f.completeExceptionally(
          new RelayException(Reason.CLOSED, false, "the relay is closed", null));
      return f;
    }
    if (call.size() > maxPayload) {
      f.completeExceptionally(
          new RelayException(
              Reason.PAYLOAD_TOO_LARGE,
              false,
              "a payload of " + call.size() + " bytes exceeds the relay's bound of " + maxPayload,
              null));
      return f;
    }
    long remaining = Duration.between(Instant.now(), call.deadline()).toMillis();
    if (remaining <= 0) {
      f.completeExceptionally(
          new RelayException(Reason.DEADLINE_PASSED, false, "the deadline had passed", null));
      return f;
    }
    if (waiting.putIfAbsent(call.id(), f) != null) {
      throw new ConfigurationException("id", "relay call id " + call.id() + " is already waiting");
    }
    f.whenComplete((r, x) -> waiting.remove(call.id(), f));
    // A take-by time before the deadline finds a dead holder early; at the deadline, the deadline
    // handler below withdraws an untaken call itself.
    long takeBy = Duration.between(Instant.now(), call.takeBy()).toMillis();
    ScheduledFuture<?> taken =
        call.takeBy().isBefore(call.deadline())
            ? timer.schedule(
                () -> execute(() -> notTaken(node, call, f)),
                Math.max(0, takeBy),
                TimeUnit.MILLISECONDS)
            : null;
    ScheduledFuture<?> t =
        timer.schedule(
            () -> execute(() -> timedOut(call, node, f)), remaining, TimeUnit.MILLISECONDS);
    f.whenComplete(
        (r, x) -> {
          t.cancel(false);
          if (taken != null) {
            taken.cancel(false);
          }
        });
    execute(
        () -> {
          try {
            sql.sendRequest(
                call.id(),
                node,
                channelOf(node),
                nodeId,
                call.address(),
                call.payload(),
                remaining,
                (int) Math.max(1, (remaining + 999) / 1000));
          } catch (SQLException e) {
            f.completeExceptionally(
                new RelayException(
                    Reason.STORE_FAILURE, true, "cannot send the call to " + node + ": " + e, e));
          }
        });
    return f;
  }

  private void notTaken(String node, RelayCall call, CompletableFuture<byte[]> f)
      throws SQLException {
    if (!f.isDone() && sql.withdrawRequest(call.id())) {
      f.completeExceptionally(
          new RelayException(
              Reason.NOT_TAKEN,
              false,
              "node "
                  + node
                  + " did not take the call by its take-by time (it may have died); it was"
                  + " withdrawn unread",
              null));
    }
  }

  private void timedOut(RelayCall call, String node, CompletableFuture<byte[]> f) {
    if (f.isDone()) {
      return;
    }
    boolean untaken;
    try {
      untaken = sql.withdrawRequest(call.id());
    } catch (SQLException e) {
      untaken = false;
    }
    f.completeExceptionally(
        new RelayException(
            Reason.DEADLINE_PASSED,
            !untaken,
            untaken
                ? "node "
                    + node
                    + " did not take the call by its deadline (it may have died); the call was"
                    + " withdrawn unread"
                : "node " + node + " took the call but sent no reply by its deadline",
            null));
  }

  @Override
  public void serve(RelayHandler handler) {
    served.handler(Objects.requireNonNull(handler, "handler"));
  }

  private void onNotice(String payload) {
    if (payload == null || payload.length() < 3 || payload.length() > 66) {
      return;
    }
    String id = payload.substring(2);
    if (payload.startsWith("q:")) {
      execute(() -> served.take(id));
    } else if (payload.startsWith("r:")) {
      execute(() -> takeReply(id));
    }
  }

  private void takeReply(String id) throws SQLException {
    CompletableFuture<byte[]> f = waiting.get(id);
    Optional<RelaySql.Reply> r = sql.claimReply(id, nodeId);
    if (r.isEmpty() || f == null) {
      return; // gone, or the call already ended: the row is deleted either way
    }
    RelaySql.Reply reply = r.get();
    if (reply.error() != null) {
      f.completeExceptionally(
          new RelayException(
              Reason.REMOTE_FAILURE, true, truncate(reply.error(), MAX_ERROR), null));
    } else if (reply.payload() == null || reply.payload().length > maxPayload) {
      f.completeExceptionally(
          new RelayException(
              Reason.REMOTE_FAILURE,
              true,
              "the holder's reply is missing or larger than " + maxPayload + " bytes",
              null));
    } else {
      f.complete(reply.payload());
    }
  }

  private void afterReconnect() {
    refresh();
    try {
      sweep();
    } catch (SQLException e) {
      // the next sweep tries again
    }
  }

  private void refresh() {
    if (closed || announced.isEmpty()) {
      return;
    }
    try {
      sql.announce(nodeId, List.copyOf(announced), ttlMs);
    } catch (SQLException e) {
      org.slf4j.LoggerFactory.getLogger(PostgresRelay.class)
          .warn("cannot refresh the relay's announcements of node {}: {}", nodeId, e.getMessage());
    }
  }

  private void sweep() throws SQLException {
    sql.deleteExpired();
    for (String id : sql.waitingFor(nodeId, false)) {
      execute(() -> served.take(id));
    }
    for (String id : sql.waitingFor(nodeId, true)) {
      execute(() -> takeReply(id));
    }
  }

  static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  /** A statement to run on the pool. */
  interface Work {
    void run() throws SQLException;
  }

  private void execute(Work w) {
    Threads.execute(pool, w, "relay node " + nodeId);
  }

  private void requireOpen() {
    if (closed) {
      throw new RelayException(
          Reason.CLOSED, false, "the relay of node " + nodeId + " is closed", null);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    loop.close(2_000);
    announced.clear();
    try {
      sql.withdraw(nodeId, null);
    } catch (SQLException e) {
      // the announcements expire by themselves
    }
    RelayException x = new RelayException(Reason.CLOSED, false, "the relay was closed", null);
    waiting.values().forEach(f -> f.completeExceptionally(x));
    timer.shutdownNow();
    pool.shutdownNow();
  }

  /** Configures a {@link PostgresRelay}. */
  public static final class Builder {
    private final DataSource dataSource;
    private String nodeId = "node-" + UUID.randomUUID();
    private Duration ttl = DEFAULT_ANNOUNCEMENT_TTL;
    private Duration sweepInterval = Duration.ofSeconds(1);
    private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
    private int threads = 8;
    private boolean createSchema = true;

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * This node's id in the relay (default: {@code node-} and a fresh UUID, unique per start): 1 to
     * 128 of {@code [A-Za-z0-9._:-]}. Two live relays must never share one.
     */
    public Builder nodeId(String id) {
      if (id == null || !NODE.matcher(id).matches()) {
        throw new ConfigurationException(
            "nodeId",
            "must be 1 to 128 letters, digits, '.', '_', ':' or '-' but was '" + id + "'");
      }
      this.nodeId = id;
      return this;
    }

    /**
     * How long an announcement lives unless refreshed (default 15 s; refreshed every third of it):
     * how long after a node dies other nodes stop sending it calls. At least 1 s.
     */
    public Builder announcementTtl(Duration ttl) {
      if (ttl == null || ttl.toMillis() < 1000) {
        throw new ConfigurationException("announcementTtl", "must be at least 1 s but was " + ttl);
      }
      this.ttl = ttl;
      return this;
    }

    /**
     * How often the relay sweeps for calls and replies whose notice it missed, deletes expired rows
     * and proves its LISTEN connection alive (default 1 s; 50 ms to 1 min).
     */
    public Builder sweepInterval(Duration d) {
      if (d == null || d.toMillis() < 50 || d.toMinutes() > 1) {
        throw new ConfigurationException("sweepInterval", "must be 50 ms to 1 min but was " + d);
      }
      this.sweepInterval = d;
      return this;
    }

    /** The largest payload carried, request or reply (default 16 MiB + 64 KiB; 1 KiB to 64 MiB). */
    public Builder maxPayloadBytes(int n) {
      if (n < 1024 || n > 64 * 1024 * 1024) {
        throw new ConfigurationException(
            "maxPayloadBytes", "must be 1024 to 67108864 but was " + n);
      }
      this.maxPayloadBytes = n;
      return this;
    }

    /** Threads for the relay's statements and the handler (default 8). */
    public Builder threads(int n) {
      if (n < 1 || n > 256) {
        throw new ConfigurationException("threads", "must be 1 to 256 but was " + n);
      }
      this.threads = n;
      return this;
    }

    /** Whether to create the relay's tables at start if missing (default true; idempotent). */
    public Builder createSchema(boolean create) {
      this.createSchema = create;
      return this;
    }

    /**
     * Builds the relay: creates its tables (if asked), starts listening and refreshing.
     *
     * @throws RelayException ({@link Reason#STORE_FAILURE}) if the tables cannot be created
     */
    public PostgresRelay build() {
      return new PostgresRelay(this);
    }
  }
}
