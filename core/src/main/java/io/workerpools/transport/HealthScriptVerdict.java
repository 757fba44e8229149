package io.workerpools.transport;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one reading of a health script's outcome that every transport shares (see {@link
 * HealthCheckRequest}): exit 0 is healthy, exit 0 with lines on stderr or exit {@link
 * HealthCheckRequest#WARNING_EXIT_CODE} is {@code HAS_WARNINGS}, any other exit code, or a script
 * that did not run to its end, is {@code UNHEALTHY}. The stderr lines become the message.
 *
 * <p>Use one per check: pass it as the health script's {@link LogSink} (it keeps the first {@value
 * #MAX_LINES} stderr lines, each cut to {@value #MAX_LINE_CHARS} characters, so a chatty script
 * cannot grow a report without bound), then call {@link #report} with the script's result. {@link
 * #onLine} may be called from any thread; the lines it keeps are already masked by the transport.
 */
public final class HealthScriptVerdict implements LogSink {
  /** How many stderr lines the message keeps. */
  public static final int MAX_LINES = 20;

  /** How many characters of one stderr line the message keeps. */
  public static final int MAX_LINE_CHARS = 500;

  private final List<String> warnings = new ArrayList<>();

  /** Keeps stderr lines for the message; other lines are ignored. */
  @Override
  public void onLine(LogLine line) {
    if (line.source() != LogLine.Source.STDERR) {
      return;
    }
    String text = line.text();
    if (text.length() > MAX_LINE_CHARS) {
      text = text.substring(0, MAX_LINE_CHARS) + "...";
    }
    synchronized (warnings) {
      if (warnings.size() < MAX_LINES) {
        warnings.add(text);
      }
    }
  }

  /** The stderr lines kept so far, joined with {@code "; "}. */
  public String warnings() {
    synchronized (warnings) {
      return String.join("; ", warnings);
    }
  }

  /**
   * The report for a health script that ended with {@code result}, after a connectivity check that
   * found {@code connectivity} (an eligible status, whose message and details are kept: a warning
   * found while connecting, such as low disk space, stays a warning).
   *
   * @param result the health script's result
   * @param connectivity the report of the check before the script ran
   * @param at when the check ended
   * @param latency the latency to report
   */
  public HealthReport report(
      ScriptResult result, HealthReport connectivity, Instant at, Duration latency) {
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(connectivity, "connectivity");
    String err = warnings();
    String before = connectivity.message();
    HealthStatus status;
    String message;
    if (result.outcome() != ScriptResult.Outcome.EXITED || result.exitCode().isEmpty()) {
      status = HealthStatus.UNHEALTHY;
      message = "health script " + result.outcome() + ": " + result.message();
    } else if (result.exitCode().getAsInt() == 0) {
      boolean warn = !err.isEmpty() || connectivity.status() == HealthStatus.HAS_WARNINGS;
      status = warn ? HealthStatus.HAS_WARNINGS : HealthStatus.HEALTHY;
      message = join(before, err);
    } else if (result.exitCode().getAsInt() == HealthCheckRequest.WARNING_EXIT_CODE) {
      status = HealthStatus.HAS_WARNINGS;
      message = join(before, err.isEmpty() ? "health script reported warnings" : err);
    } else {
      status = HealthStatus.UNHEALTHY;
      message =
          "health script exited with "
              + result.exitCode().getAsInt()
              + (err.isEmpty() ? "" : ": " + err);
    }
    return new HealthReport(status, at, latency, message, connectivity.details());
  }

  private static String join(String a, String b) {
    if (a.isEmpty()) {
      return b;
    }
    return b.isEmpty() ? a : a + "; " + b;
  }
}
