package io.workerpools.tentacle.internal;

import java.util.List;
import java.util.Map;

/** The wire messages, as records. Every field is required unless it says otherwise. */
public final class Messages {
  private Messages() {}

  /** A request or reply with no fields ({@code ping}, {@code capabilities}, {@code heartbeat}). */
  public record Empty() {}

  /** What an agent offers. */
  public record Capabilities(
      List<String> services,
      String agentVersion,
      String os,
      List<String> syntaxes,
      long freeDiskBytes) {}

  /** A file placed beside the script, base64 encoded. */
  public record ScriptFileEntry(String name, String base64) {}

  /** {@code script.start}: the host makes the ticket, so a retried start never runs twice. */
  public record StartScript(
      String ticket,
      String syntax,
      String body,
      List<String> arguments,
      Map<String, String> environment,
      List<String> sensitiveValues,
      List<ScriptFileEntry> files,
      long timeoutMillis,
      String isolation,
      String mutexName,
      long mutexTimeoutMillis,
      long waitForMillis) {}

  /**
   * {@code script.status}: log lines after {@code afterSequence}, held up to {@code waitForMillis}.
   */
  public record StatusRequest(String ticket, long afterSequence, long waitForMillis) {}

  /** {@code script.cancel} and {@code script.complete}. */
  public record TicketRequest(String ticket) {}

  /** One log line. */
  public record LogEntry(long seq, String source, long timeMillis, String text) {}

  /**
   * The state of a script. {@code outcome} and {@code exitCode} are set once {@code state} is
   * {@code COMPLETE}.
   */
  public record ScriptStatus(
      String ticket,
      String state,
      String outcome,
      int exitCode,
      List<LogEntry> logs,
      long nextSequence,
      String message) {}

  /** {@code files.upload}: chunk frames follow, then an empty frame. */
  public record Upload(String path, long length, String sha256) {}

  /** {@code files.download}: the reply is followed by chunk frames, then an empty frame. */
  public record Download(String path) {}

  /** The reply to an upload or a download. */
  public record FileInfo(String fullPath, long length, String sha256) {}
}
