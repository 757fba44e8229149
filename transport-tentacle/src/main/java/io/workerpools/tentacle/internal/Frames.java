package io.workerpools.tentacle.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The framing: after TLS, one ASCII preamble line each way, then frames of a {@code u32} big-endian
 * length followed by that many bytes (UTF-8 JSON, or raw bytes for file chunks). Stateless helpers.
 */
public final class Frames {
  /**
   * The protocol name and version 1, which starts the preamble lines of a peer that speaks only
   * version 1 (see {@link ProtocolVersions} for the negotiation).
   */
  public static final String PROTOCOL = "WORKERPOOLS-TENTACLE/1";

  /** The default largest frame: 16 MiB. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

  /** The longest preamble line accepted. */
  public static final int MAX_PREAMBLE_BYTES = 512;

  private Frames() {}

  /**
   * Writes one frame (header and payload in one write, so that TLS sends one record) and flushes.
   */
  public static void write(OutputStream out, byte[] payload) throws IOException {
    write(out, payload, 0, payload.length);
  }

  /** Writes one frame of {@code len} bytes of {@code payload} from {@code off} and flushes. */
  public static void write(OutputStream out, byte[] payload, int off, int len) throws IOException {
    byte[] buf = new byte[4 + len];
    buf[0] = (byte) (len >>> 24);
    buf[1] = (byte) (len >>> 16);
    buf[2] = (byte) (len >>> 8);
    buf[3] = (byte) len;
    System.arraycopy(payload, off, buf, 4, len);
    out.write(buf);
    out.flush();
  }

  /**
   * Reads one frame. Returns {@code null} if the stream ended cleanly before a frame started.
   *
   * @throws ProtocolViolationException if the frame is larger than {@code maxBytes} or the stream
   *     ends inside it
   */
  public static byte[] read(InputStream in, int maxBytes) throws IOException {
    byte[] header = new byte[4];
    int got = readUpTo(in, header, 0, 4);
    if (got == 0) {
      return null;
    }
    if (got < 4) {
      throw new ProtocolViolationException(
          "truncated frame: the connection closed after " + got + " of 4 header bytes", true);
    }
    long len =
        ((header[0] & 0xFFL) << 24)
            | ((header[1] & 0xFFL) << 16)
            | ((header[2] & 0xFFL) << 8)
            | (header[3] & 0xFFL);
    if (len > maxBytes) {
      throw new ProtocolViolationException(
          "frame of "
              + len
              + " bytes exceeds the limit of "
              + maxBytes
              + " bytes; send large content as a file upload (chunks), or raise the frame limit",
          true);
    }
    // Grown as bytes arrive, not allocated as announced: a peer that announces 16 MiB and sends
    // nothing costs 64 KiB, not 16 MiB.
    int size = (int) len;
    byte[] payload = new byte[Math.min(size, INITIAL_BUFFER)];
    int n = 0;
    while (true) {
      n += readUpTo(in, payload, n, payload.length - n);
      if (n < payload.length || payload.length == size) {
        break;
      }
      payload = java.util.Arrays.copyOf(payload, (int) Math.min(size, payload.length * 2L));
    }
    if (n < len) {
      throw new ProtocolViolationException(
          "truncated frame: the connection closed after " + n + " of " + len + " payload bytes",
          true);
    }
    return payload;
  }

  /** The first buffer of a frame's payload; it doubles as bytes arrive, up to the frame's size. */
  static final int INITIAL_BUFFER = 64 * 1024;

  private static int readUpTo(InputStream in, byte[] buf, int off, int len) throws IOException {
    int total = 0;
    while (total < len) {
      int r = in.read(buf, off + total, len - total);
      if (r < 0) {
        break;
      }
      total += r;
    }
    return total;
  }

  /** Writes one preamble line (ASCII, {@code \n}-terminated) and flushes. */
  public static void writeLine(OutputStream out, String line) throws IOException {
    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /**
   * Reads one preamble line and returns its words after {@code WORKERPOOLS-TENTACLE/<version>} (and
   * without a trailing {@code min=}): for callers that need not know the version.
   *
   * @throws ProtocolViolationException if the line is too long, not printable ASCII, or not a
   *     preamble of this protocol
   */
  public static String readLine(InputStream in) throws IOException {
    return ProtocolVersions.parse(readPreamble(in)).words();
  }

  /**
   * Reads one whole preamble line (bounded, printable ASCII); {@link ProtocolVersions#parse} parses
   * it.
   *
   * @throws ProtocolViolationException if the line is too long or not printable ASCII
   */
  public static String readPreamble(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new ProtocolViolationException(
            "the peer closed the connection before completing its preamble line", true);
      }
      if (b == '\n') {
        break;
      }
      if (b < 0x20 || b > 0x7e) {
        throw new ProtocolViolationException(
            "the preamble contains a non-printable byte 0x"
                + Integer.toHexString(b)
                + ": the peer does not speak "
                + PROTOCOL,
            true);
      }
      buf.write(b);
      if (buf.size() > MAX_PREAMBLE_BYTES) {
        throw new ProtocolViolationException(
            "the preamble is longer than " + MAX_PREAMBLE_BYTES + " bytes", true);
      }
    }
    return buf.toString(StandardCharsets.US_ASCII);
  }
}
