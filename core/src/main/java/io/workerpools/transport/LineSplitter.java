package io.workerpools.transport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The one way a transport turns a script's output bytes into log lines: every built-in transport
 * uses it, and a host's own transport should too.
 *
 * <ul>
 *   <li>Lines end at {@code \n}; a {@code \r} before it is dropped. What is left at the end of the
 *       stream ({@link #finish()}) is a last line.
 *   <li>Bytes are decoded per line as UTF-8; invalid bytes become U+FFFD. A multi-byte character
 *       split across two writes is decoded whole. Binary output gives odd text, never an error.
 *   <li>Bounded: a line longer than {@code maxLineBytes} is handed on in pieces of at most that
 *       many bytes, each cut at a character boundary, so memory per stream stays bounded whatever
 *       the script prints.
 *   <li>A cut never falls inside an occurrence of a sensitive value (nor of one line of a
 *       multi-line one): each piece is masked on its own, and a secret cut in two would escape the
 *       mask. Values of at least half a piece are not kept whole (a piece must make progress).
 *   <li>Masking: lines from {@link #masking} are masked with the request's {@link SensitiveMasker}
 *       before the consumer sees them.
 * </ul>
 *
 * <p>Feed it with {@link #accept}, {@link #write} (it is an {@link OutputStream}, so it can be
 * handed to an SSH library as a channel's output) or {@link #pump(InputStream)}. Its methods are
 * synchronized: bytes may come from one thread and {@link #finish()} from another. The consumer is
 * called on the thread that feeds the bytes, with the splitter's lock held, in order; it must not
 * block for long (hand lines off if the sink may be slow).
 */
public final class LineSplitter extends OutputStream {
  /** The longest piece of a line handed on, unless a transport chooses otherwise: 64 KiB. */
  public static final int DEFAULT_MAX_LINE_BYTES = 64 * 1024;

  /** The smallest {@code maxLineBytes} allowed. */
  public static final int MIN_MAX_LINE_BYTES = 16;

  private final int maxLineBytes;
  private final Consumer<String> out;
  private final byte[][] keepWhole;
  private byte[] line = new byte[256];
  private int length;

  private LineSplitter(int maxLineBytes, SensitiveMasker masker, Consumer<String> out) {
    if (maxLineBytes < MIN_MAX_LINE_BYTES) {
      throw new IllegalArgumentException(
          "maxLineBytes must be at least " + MIN_MAX_LINE_BYTES + " but was " + maxLineBytes);
    }
    this.maxLineBytes = maxLineBytes;
    this.out = Objects.requireNonNull(out, "out");
    this.keepWhole =
        masker.keptWhole().stream()
            .map(v -> v.getBytes(StandardCharsets.UTF_8))
            .filter(b -> b.length > 1 && b.length < maxLineBytes / 2)
            .toArray(byte[][]::new);
  }

  /**
   * A splitter that hands on lines already masked with {@code masker}: what most transports want.
   *
   * @param maxLineBytes the longest piece of a line, in bytes (at least {@value
   *     #MIN_MAX_LINE_BYTES}); {@link #DEFAULT_MAX_LINE_BYTES} unless the transport is configured
   *     otherwise
   * @param masker the request's masker ({@link ScriptRequest#masker()})
   * @param maskedLines receives each line (or piece of a long line), masked
   */
  public static LineSplitter masking(
      int maxLineBytes, SensitiveMasker masker, Consumer<String> maskedLines) {
    Objects.requireNonNull(masker, "masker");
    Objects.requireNonNull(maskedLines, "maskedLines");
    return new LineSplitter(maxLineBytes, masker, text -> maskedLines.accept(masker.mask(text)));
  }

  /**
   * A splitter that cuts lines as {@link #masking} does (never inside a value of {@code masker})
   * but hands them on unmasked, for a transport that must read its own protocol lines (markers,
   * process ids) in the raw output before masking. The caller must pass every line it lets out of
   * the transport through {@code masker.mask} first.
   */
  public static LineSplitter unmasked(
      int maxLineBytes, SensitiveMasker masker, Consumer<String> rawLines) {
    Objects.requireNonNull(masker, "masker");
    return new LineSplitter(maxLineBytes, masker, rawLines);
  }

  /** The longest piece of a line this splitter hands on, in bytes. */
  public int maxLineBytes() {
    return maxLineBytes;
  }

  /**
   * Reads {@code in} until end of stream, handing on each line in order, then {@link #finish()}. If
   * reading fails, what was read before the failure has been handed on and the exception is thrown;
   * call {@link #finish()} to hand on a last partial line.
   */
  public void pump(InputStream in) throws IOException {
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0) {
      accept(buf, 0, n);
    }
    finish();
  }

  /** Feeds bytes; every complete line (and every full piece of a long one) is handed on at once. */
  public synchronized void accept(byte[] buf, int off, int len) {
    Objects.checkFromIndexSize(off, len, buf.length);
    int start = off;
    int end = off + len;
    for (int i = off; i < end; i++) {
      if (buf[i] == '\n') {
        append(buf, start, i - start);
        emitLine();
        start = i + 1;
      }
    }
    append(buf, start, end - start);
  }

  @Override
  public void write(byte[] b, int off, int len) {
    accept(b, off, len);
  }

  @Override
  public void write(int b) {
    accept(new byte[] {(byte) b}, 0, 1);
  }

  /** Hands on what is left as a last line (output that does not end with a newline). Idempotent. */
  public synchronized void finish() {
    if (length > 0) {
      emitLine();
    }
  }

  /**
   * Does nothing: the stream's owner closes it; the last partial line waits for {@link #finish}.
   */
  @Override
  public void close() {}

  private void append(byte[] buf, int off, int len) {
    while (len > 0) {
      int take = Math.min(maxLineBytes - length, len);
      ensureCapacity(length + take);
      System.arraycopy(buf, off, line, length, take);
      length += take;
      off += take;
      len -= take;
      if (length == maxLineBytes) {
        emitPieceOfLongLine();
      }
    }
  }

  private void ensureCapacity(int needed) {
    if (needed > line.length) {
      line = Arrays.copyOf(line, Math.min(maxLineBytes, Math.max(needed, line.length * 2)));
    }
  }

  private void emitLine() {
    int end = length;
    if (end > 0 && line[end - 1] == '\r') {
      end--;
    }
    length = 0;
    out.accept(new String(line, 0, end, StandardCharsets.UTF_8));
  }

  /** The buffer is full: hand on up to a safe cut and keep the rest for the next piece. */
  private void emitPieceOfLongLine() {
    int cut = outsideKeptValues(characterBoundaryAtOrBefore(length));
    String piece = new String(line, 0, cut, StandardCharsets.UTF_8);
    int rest = length - cut;
    System.arraycopy(line, cut, line, 0, rest);
    length = rest;
    out.accept(piece);
  }

  /** The last position at or before {@code end} that does not split a UTF-8 character. */
  private int characterBoundaryAtOrBefore(int end) {
    // Back off over continuation bytes (10xxxxxx) to the lead byte of the last character.
    int back = 0;
    while (back < 3 && end - back - 1 > 0 && (line[end - back - 1] & 0xC0) == 0x80) {
      back++;
    }
    int leadAt = end - back - 1;
    int lead = line[leadAt] & 0xFF;
    if ((lead & 0xC0) != 0xC0) {
      return end; // ASCII or stray continuation bytes: nothing whole to protect
    }
    int needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    // Incomplete: keep it for the next piece (unless it is all there is).
    return back + 1 < needed && leadAt > 0 ? leadAt : end;
  }

  /**
   * Moves {@code cut} back to the start of any kept value that would straddle it (one that runs
   * past the buffer counts if what the buffer holds of it matches), until none does. The start of a
   * kept value is a character boundary. If that would leave nothing to hand on (a line made of
   * nothing but overlapping kept values), the original cut stands.
   */
  private int outsideKeptValues(int cut) {
    int c = cut;
    boolean moved = true;
    while (moved && c > 0) {
      moved = false;
      for (byte[] v : keepWhole) {
        for (int p = Math.max(0, c - v.length + 1); p < c; p++) {
          if (matchesAt(v, p)) {
            c = p;
            moved = true;
            break;
          }
        }
      }
    }
    return c > 0 ? c : cut;
  }

  /** Whether {@code v} occurs at {@code p}, as far as the buffer reaches. */
  private boolean matchesAt(byte[] v, int p) {
    int n = Math.min(v.length, length - p);
    for (int i = 0; i < n; i++) {
      if (line[p + i] != v[i]) {
        return false;
      }
    }
    return true;
  }
}
