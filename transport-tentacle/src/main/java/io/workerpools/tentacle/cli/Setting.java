package io.workerpools.tentacle.cli;

import io.workerpools.tentacle.TentacleCertificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every tunable of the agent program: its key in the config file, the flag that overrides it, its
 * default and how its value is read. The one table from which the flags, the config file's checks,
 * {@code show-config} and the reference in {@code docs/agent.md} derive.
 */
public enum Setting {
  /** Listening mode: the address to bind. */
  LISTEN_ADDRESS(
      "listen.address",
      "--bind",
      "ADDRESS",
      "127.0.0.1",
      Scope.LISTEN,
      "address to listen on; 0.0.0.0 (or ::) for every interface",
      Setting::text),
  /** Listening mode: the port. */
  LISTEN_PORT(
      "listen.port",
      "--port",
      "PORT",
      "10933",
      Scope.LISTEN,
      "port to listen on (0: any free port)",
      v -> integer(v, 0, 65535)),
  /** Polling mode: the host's polling address. */
  POLL_SERVER(
      "poll.server",
      "--server",
      "HOST:PORT",
      null,
      Scope.POLL,
      "the host's polling port to connect out to (repeatable: one per host node, each served"
          + " directly; every node's certificate must be trusted; comma-separated in the file)",
      Setting::servers),
  /** Polling mode: the subscription id the host registered this agent under. */
  POLL_SUBSCRIPTION(
      "poll.subscription",
      "--subscription",
      "ID",
      null,
      Scope.POLL,
      "the subscription id the host registered this agent under",
      Setting::subscription),
  /** Polling mode: connections kept open to the host. */
  POLL_CONNECTIONS(
      "poll.connections",
      "--connections",
      "N",
      Integer.toString(Math.max(5, Runtime.getRuntime().availableProcessors())),
      Scope.POLL,
      "connections kept open to the host, 1 to 64 (default: max(5, CPUs))",
      v -> integer(v, 1, 64)),
  /** Polling mode: the shortest reconnect back-off. */
  POLL_BACKOFF_MIN(
      "poll.backoff.min",
      "--backoff-min",
      "DURATION",
      "5s",
      Scope.POLL,
      "shortest delay before reconnecting (jittered, doubling)",
      v -> duration(v, Duration.ofMillis(1))),
  /** Polling mode: the longest reconnect back-off. */
  POLL_BACKOFF_MAX(
      "poll.backoff.max",
      "--backoff-max",
      "DURATION",
      "2m",
      Scope.POLL,
      "longest delay before reconnecting",
      v -> duration(v, Duration.ofMillis(1))),
  /** The host thumbprints trusted for this run. */
  TRUST(
      "trust",
      "--trust",
      "THUMBPRINT",
      "",
      Scope.RUN,
      "host thumbprint to trust for this run, besides those stored with configure --trust"
          + " (repeatable; comma-separated in the file)",
      Setting::thumbprints),
  /** The budget of a TLS handshake. */
  HANDSHAKE_TIMEOUT(
      "handshake.timeout",
      "--handshake-timeout",
      "DURATION",
      "5s",
      Scope.RUN,
      "longest a TLS handshake may take in all (at least 100ms)",
      v -> duration(v, Duration.ofMillis(100))),
  /** Connections still in their handshake at once. */
  HANDSHAKE_MAX_PENDING(
      "handshake.max-pending",
      "--max-pending-handshakes",
      "N",
      "16",
      Scope.LISTEN,
      "connections in their TLS handshake at once, 1 to 1024 (a newer one evicts the oldest)",
      v -> integer(v, 1, 1024)),
  /** Authenticated connections served at once. */
  CONNECTIONS_MAX(
      "connections.max",
      "--max-connections",
      "N",
      "64",
      Scope.LISTEN,
      "authenticated connections served at once (one more is closed)",
      v -> integer(v, 1, 65536)),
  /** Idle connections are closed after this. */
  CONNECTIONS_IDLE_TIMEOUT(
      "connections.idle-timeout",
      "--idle-timeout",
      "DURATION",
      "5m",
      Scope.LISTEN,
      "an idle connection is closed after this",
      v -> duration(v, Duration.ofSeconds(1))),
  /** The largest frame accepted. */
  FRAME_MAX_BYTES(
      "frame.max-bytes",
      "--max-frame",
      "BYTES",
      "16777216",
      Scope.RUN,
      "largest protocol frame accepted, in bytes (at least 1024)",
      v -> integer(v, 1024, Integer.MAX_VALUE)),
  /** Old workspaces are deleted at start. */
  WORKSPACE_RETENTION(
      "workspace.retention",
      "--workspace-retention",
      "DURATION",
      "7d",
      Scope.RUN,
      "script workspaces older than this are deleted at start",
      v -> duration(v, Duration.ZERO)),
  /** What SIGTERM does to running scripts. */
  SHUTDOWN_MODE(
      "shutdown.mode",
      "--shutdown",
      "finish|cancel",
      "cancel",
      Scope.RUN,
      "on SIGTERM, cancel running scripts or let them finish (up to shutdown.timeout)",
      v -> choice(v, "finish", "cancel")),
  /** How long running scripts may finish on SIGTERM. */
  SHUTDOWN_TIMEOUT(
      "shutdown.timeout",
      "--shutdown-timeout",
      "DURATION",
      "30s",
      Scope.RUN,
      "with shutdown.mode finish: how long running scripts may take",
      v -> duration(v, Duration.ZERO)),
  /** The log level. */
  LOG_LEVEL(
      "log.level",
      "--log-level",
      "LEVEL",
      "info",
      Scope.ALL,
      "error, warn, info, debug or trace",
      v -> choice(v.toLowerCase(Locale.ROOT), "error", "warn", "info", "debug", "trace")),
  /** The log line format. */
  LOG_FORMAT(
      "log.format",
      "--log-format",
      "text|json",
      "text",
      Scope.ALL,
      "log lines on standard error as text, or one JSON object per line",
      v -> choice(v, AgentLog.TEXT, AgentLog.JSON));

  /** Which commands a setting applies to. */
  enum Scope {
    /** Every command (the log settings). */
    ALL,
    /** Both running modes. */
    RUN,
    LISTEN,
    POLL,
    /** As a command's scope: takes every setting ({@code show-config}). */
    EVERY;

    boolean appliesTo(Scope command) {
      return command == EVERY
          || this == ALL
          || this == command
          || (this == RUN && (command == LISTEN || command == POLL));
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");
  private static final Pattern SUBSCRIPTION = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final String key;
  private final String flag;
  private final String label;
  private final String defaultValue;
  private final Scope scope;
  private final String description;
  private final Function<String, Object> parser;

  Setting(
      String key,
      String flag,
      String label,
      String defaultValue,
      Scope scope,
      String description,
      Function<String, Object> parser) {
    this.key = key;
    this.flag = flag;
    this.label = label;
    this.defaultValue = defaultValue;
    this.scope = scope;
    this.description = description;
    this.parser = parser;
  }

  /** The key in the config file. */
  public String key() {
    return key;
  }

  /** The flag that overrides the config file. */
  public String flag() {
    return flag;
  }

  /** The value's placeholder in the usage text. */
  public String label() {
    return label;
  }

  /** The default, as written in the config file; null when there is none. */
  public String defaultValue() {
    return defaultValue;
  }

  /** What it does. */
  public String description() {
    return description;
  }

  /** True if the value may be given several times (the flag repeated). */
  public boolean repeatable() {
    return this == TRUST || this == POLL_SERVER;
  }

  Scope scope() {
    return scope;
  }

  /**
   * Reads a value.
   *
   * @throws IllegalArgumentException saying what is wrong with it and what is allowed
   */
  Object parse(String value) {
    return parser.apply(value.strip());
  }

  /** The setting whose config-file key is {@code key}, or null. */
  static Setting byKey(String key) {
    for (Setting s : values()) {
      if (s.key.equals(key)) {
        return s;
      }
    }
    return null;
  }

  private static String text(String v) {
    if (v.isEmpty()) {
      throw new IllegalArgumentException("is empty");
    }
    return v;
  }

  private static int integer(String v, int min, int max) {
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + v + "' is not a whole number");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException("must be " + min + " to " + max + " but was " + v);
    }
    return n;
  }

  /** A duration: a whole number with a unit (500ms, 30s, 5m, 2h, 7d) or ISO-8601 (PT30S). */
  static Duration duration(String v, Duration min) {
    Duration d;
    Matcher m = DURATION.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
          };
    } else if (v.startsWith("P") || v.startsWith("p")) {
      try {
        d = Duration.parse(v);
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException("'" + v + "' is not an ISO-8601 duration");
      }
    } else {
      throw new IllegalArgumentException(
          "'" + v + "' is not a duration: use a whole number and a unit (500ms, 30s, 5m, 2h, 7d)");
    }
    if (d.compareTo(min) < 0) {
      throw new IllegalArgumentException("must be at least " + min + " but was " + v);
    }
    return d;
  }

  private static String choice(String v, String... allowed) {
    for (String a : allowed) {
      if (a.equals(v)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "'" + v + "' is not valid: use " + String.join(", ", allowed));
  }

  private static List<String> servers(String v) {
    List<String> out = new ArrayList<>();
    for (String part : v.split(",")) {
      String a = part.strip();
      if (!a.isEmpty() && !out.contains(hostPort(a))) {
        out.add(a);
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("is empty: give at least one HOST:PORT");
    }
    return List.copyOf(out);
  }

  /** Checks one {@code HOST:PORT}; returns it. */
  static String hostPort(String v) {
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1) {
      throw new IllegalArgumentException("'" + v + "' is not HOST:PORT");
    }
    try {
      integer(v.substring(colon + 1), 1, 65535);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + v + "' is not HOST:PORT (port 1 to 65535)");
    }
    return v;
  }

  private static String subscription(String v) {
    if (!SUBSCRIPTION.matcher(v).matches()) {
      throw new IllegalArgumentException(
          "'" + v + "' is not valid: use 1 to 128 letters, digits, '.', '_' or '-'");
    }
    return v;
  }

  private static List<String> thumbprints(String v) {
    List<String> out = new ArrayList<>();
    for (String part : v.split(",")) {
      String t = part.strip();
      if (t.isEmpty()) {
        continue;
      }
      try {
        out.add(TentacleCertificate.normalizeThumbprint("trust", t));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "'" + t + "' is not a thumbprint: expected 64 hex digits (SHA-256)");
      }
    }
    return List.copyOf(out);
  }
}
