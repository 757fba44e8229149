package io.workerpools.tentacle;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.tentacle.internal.ScriptService;
import io.workerpools.tentacle.internal.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The agent protocol's pieces a hostile peer needs (framing, the JSON mapper, the request types,
 * pinned TLS), for tests outside this module: published in the transport's test-jar so that they
 * need not import its {@code internal} package (#13). Test-only; not an API.
 */
public final class AgentWire {
  /** The protocol name the preamble lines carry. */
  public static final String PROTOCOL = Frames.PROTOCOL;

  /** The largest frame either side accepts by default. */
  public static final int MAX_FRAME_BYTES = Frames.DEFAULT_MAX_FRAME_BYTES;

  /** The longest line an agent's output reader keeps by default. */
  public static final int MAX_LINE_CHARS = ScriptService.MAX_LOG_ENTRY_BYTES;

  /** The protocol's JSON mapper. */
  public static final ObjectMapper MAPPER = Wire.MAPPER;

  private AgentWire() {}

  /** Writes one length-prefixed frame. */
  public static void writeFrame(OutputStream out, byte[] payload) throws IOException {
    Frames.write(out, payload);
  }

  /** Reads one frame of at most {@code maxBytes}. */
  public static byte[] readFrame(InputStream in, int maxBytes) throws IOException {
    return Frames.read(in, maxBytes);
  }

  /** Writes one preamble line. */
  public static void writeLine(OutputStream out, String line) throws IOException {
    Frames.writeLine(out, line);
  }

  /** Reads one preamble line. */
  public static String readLine(InputStream in) throws IOException {
    return Frames.readLine(in);
  }

  /** The request types an agent knows. */
  public static Set<String> requestTypes() {
    return Wire.REQUEST_TYPES.keySet();
  }

  /** Decodes a request frame as the agent does; throws what the agent's decoder throws. */
  public static void decodeRequest(byte[] frame) throws Exception {
    Wire.decodeRequest(frame);
  }

  /** A TLS 1.3 context with {@code own}'s key that trusts only the given thumbprints. */
  public static SSLContext pinnedContext(TentacleCertificate own, Supplier<Set<String>> trusted) {
    return PinnedTls.context(own, trusted);
  }
}
