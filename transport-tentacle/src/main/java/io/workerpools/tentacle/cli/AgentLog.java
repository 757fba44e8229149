package io.workerpools.tentacle.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The agent program's SLF4J binding: one line per event on standard error, with a UTC timestamp and
 * the level; as text ({@code 2026-01-02T03:04:05.678Z INFO [thread] logger - message}) or as one
 * JSON object per line for log shippers ({@code time, level, logger, thread, message}, the MDC's
 * entries under {@code mdc}, a stack trace under {@code error}).
 *
 * <p>Only the agent program uses it: {@link io.workerpools.tentacle.AgentMain} selects it with the
 * {@code slf4j.provider} system property before anything logs. It is not registered as a service,
 * so a host application that embeds this module keeps its own binding.
 */
public final class AgentLog implements SLF4JServiceProvider {
  /** Text lines (the default). */
  public static final String TEXT = "text";

  /** One JSON object per line. */
  public static final String JSON = "json";

  private static volatile Level threshold = Level.INFO;
  private static volatile boolean json;
  private static volatile PrintStream target = System.err;
  private static final JsonFactory JSON_FACTORY = new JsonFactory();

  private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new BasicMDCAdapter();

  /** The constructor SLF4J calls; state is static, set by {@link #configure}. */
  public AgentLog() {}

  /**
   * Sets the level below which events are dropped and the line format ({@link #TEXT} or {@link
   * #JSON}). Takes effect for the next event, on every thread.
   */
  public static void configure(Level level, String format) {
    threshold = level;
    json = JSON.equals(format);
  }

  /** Where lines go (standard error unless a test says otherwise). */
  static void target(PrintStream stream) {
    target = stream;
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return name -> loggers.computeIfAbsent(name, Line::new);
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {
    // state is static and set by configure()
  }

  static String format(
      Instant time,
      Level level,
      String logger,
      String thread,
      String message,
      Map<String, String> context,
      Throwable error) {
    String stack = error == null ? null : stackTrace(error);
    if (!json) {
      StringBuilder b = new StringBuilder(96 + message.length());
      b.append(time).append(' ').append(String.format(Locale.ROOT, "%-5s", level));
      b.append(" [").append(thread).append("] ").append(logger).append(" - ");
      appendOneLine(b, message);
      if (context != null && !context.isEmpty()) {
        b.append(' ').append(context);
      }
      if (stack != null) {
        b.append(System.lineSeparator()).append(stack.stripTrailing());
      }
      return b.toString();
    }
    StringWriter w = new StringWriter(128 + message.length());
    try (JsonGenerator g = JSON_FACTORY.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField("time", time.toString());
      g.writeStringField("level", level.toString());
      g.writeStringField("logger", logger);
      g.writeStringField("thread", thread);
      g.writeStringField("message", message);
      if (context != null && !context.isEmpty()) {
        g.writeObjectFieldStart("mdc");
        for (Map.Entry<String, String> e : context.entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
      }
      if (stack != null) {
        g.writeStringField("error", stack);
      }
      g.writeEndObject();
    } catch (IOException e) {
      return "{\"level\":\"ERROR\",\"message\":\"cannot format a log event\"}";
    }
    return w.toString();
  }

  /** Appends {@code s} with line breaks escaped: one event stays one line (no forged lines). */
  private static void appendOneLine(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else {
        b.append(c);
      }
    }
  }

  private static String stackTrace(Throwable t) {
    StringWriter s = new StringWriter();
    t.printStackTrace(new PrintWriter(s));
    return s.toString();
  }

  /** One named logger. */
  private static final class Line extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    Line(String name) {
      this.name = name;
    }

    private static boolean on(Level level) {
      return level.toInt() >= threshold.toInt();
    }

    @Override
    public boolean isTraceEnabled() {
      return on(Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
      return on(Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
      return on(Level.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
      return on(Level.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
      return on(Level.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String pattern, Object[] args, Throwable error) {
      if (!on(level)) {
        return;
      }
      String message = MessageFormatter.basicArrayFormat(pattern, args);
      String line =
          format(
              Instant.now(),
              level,
              name,
              Thread.currentThread().getName(),
              message == null ? "" : message,
              MDC.getCopyOfContextMap(),
              error);
      PrintStream out = target;
      synchronized (out) {
        out.println(line);
        out.flush();
      }
    }
  }
}
