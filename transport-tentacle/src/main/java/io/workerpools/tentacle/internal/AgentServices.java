package io.workerpools.tentacle.internal;

import io.workerpools.tentacle.internal.Messages.FileInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves requests on one agent connection, whichever side opened it: reads request frames and
 * writes one reply frame each. A frame with bad JSON, an unknown type or an unknown field gets an
 * error reply and the connection goes on; a framing error (oversized or truncated frame) closes it.
 */
public final class AgentServices {
  private static final Logger LOG = LoggerFactory.getLogger(AgentServices.class);

  /** The services this agent offers, with versions. */
  public static final List<String> SERVICES =
      List.of("capabilities/1", "script/1", "files/1", "ping/1");

  private final ScriptService scripts;
  private final FileService files;
  private final int maxFrameBytes;

  public AgentServices(ScriptService scripts, FileService files, int maxFrameBytes) {
    this.scripts = scripts;
    this.files = files;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The script service. */
  public ScriptService scripts() {
    return scripts;
  }

  /**
   * Serves requests until the peer closes the connection cleanly.
   *
   * @throws IOException on a network or framing error (the caller closes the connection)
   */
  public void serve(InputStream in, OutputStream out) throws IOException {
    while (true) {
      byte[] frame = Frames.read(in, maxFrameBytes);
      if (frame == null) {
        return;
      }
      serveOne(frame, in, out);
    }
  }

  /** Serves one request frame (and the chunk frames an upload brings along). */
  public void serveOne(byte[] frame, InputStream in, OutputStream out) throws IOException {
    Wire.Decoded req;
    try {
      req = Wire.decodeRequest(frame);
    } catch (ProtocolViolationException e) {
      LOG.warn("refused a request: {}", e.getMessage());
      Frames.write(out, Wire.error("error", e.getMessage()));
      return;
    }
    String type = req.type();
    try {
      switch (type) {
        case "ping":
        case "heartbeat":
          Frames.write(out, Wire.ok(type, new Messages.Empty()));
          return;
        case "capabilities":
          Frames.write(out, Wire.ok(type, capabilities()));
          return;
        case "script.start":
          {
            Messages.StartScript s = (Messages.StartScript) req.body();
            ScriptService.validate(s);
            Frames.write(out, Wire.ok(type, scripts.start(s)));
            return;
          }
        case "script.status":
          {
            Messages.StatusRequest s = (Messages.StatusRequest) req.body();
            Frames.write(
                out,
                Wire.ok(type, scripts.status(s.ticket(), s.afterSequence(), s.waitForMillis())));
            return;
          }
        case "script.cancel":
          Frames.write(
              out, Wire.ok(type, scripts.cancel(((Messages.TicketRequest) req.body()).ticket())));
          return;
        case "script.complete":
          Frames.write(
              out, Wire.ok(type, scripts.complete(((Messages.TicketRequest) req.body()).ticket())));
          return;
        case "files.upload":
          {
            FileInfo info;
            try {
              info =
                  files.receive((Messages.Upload) req.body(), () -> Frames.read(in, maxFrameBytes));
            } catch (IllegalArgumentException e) {
              Frames.write(out, Wire.error(type, e.getMessage()));
              return;
            }
            Frames.write(out, Wire.ok(type, info));
            return;
          }
        case "files.download":
          {
            FileInfo info = files.describe((Messages.Download) req.body());
            Frames.write(out, Wire.ok(type, info));
            files.send(info, out);
            return;
          }
        default:
          Frames.write(out, Wire.error(type, "message type '" + type + "' is not served here"));
      }
    } catch (IllegalArgumentException e) {
      Frames.write(out, Wire.error(type, e.getMessage()));
    } catch (java.io.UncheckedIOException e) {
      LOG.warn("'{}' failed: {}", type, e.toString());
      Frames.write(out, Wire.error(type, "the agent failed: " + e.getMessage()));
    } catch (RuntimeException e) {
      // A bug or an input nothing else caught: answered, and the connection goes on (in polling
      // mode this connection's thread is the agent's only way to be reached).
      LOG.warn("'{}' failed unexpectedly", type, e);
      Frames.write(out, Wire.error(type, "the agent failed: " + e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("the agent is shutting down", e);
    }
  }

  private Messages.Capabilities capabilities() throws IOException {
    return new Messages.Capabilities(
        SERVICES,
        "1",
        System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT),
        List.of("BASH", "SH", "PYTHON"),
        Files.getFileStore(files.root()).getUsableSpace());
  }
}
