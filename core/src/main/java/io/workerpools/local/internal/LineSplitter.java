package io.workerpools.local.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a byte stream to its end and hands out its lines as text: split at {@code \n} (a trailing
 * {@code \r} is dropped), decoded as UTF-8 with invalid bytes replaced by U+FFFD, and a line longer
 * than {@code maxLineBytes} split into pieces of at most that size, at a character boundary. Binary
 * output therefore yields odd text but never breaks the stream, and memory per stream stays
 * bounded. A long line is never cut inside an occurrence of a value it is told to keep whole (the
 * sensitive values: the host masks each piece, and a secret cut in two would escape the mask).
 */
public final class LineSplitter {
  private final int maxLineBytes;
  private final Consumer<String> out;
  private final byte[][] keepWhole;
  private byte[] line = new byte[256];
  private int length;

  public LineSplitter(int maxLineBytes, Consumer<String> out) {
    this(maxLineBytes, List.of(), out);
  }

  /**
   * @param keepWhole values a cut of a long line must not split (the sensitive values); empty ones
   *     and ones at least half a piece long are ignored
   */
  public LineSplitter(int maxLineBytes, Collection<String> keepWhole, Consumer<String> out) {
    if (maxLineBytes < 16) {
      throw new IllegalArgumentException(
          "maxLineBytes must be at least 16 but was " + maxLineBytes);
    }
    this.maxLineBytes = maxLineBytes;
    this.out = out;
    this.keepWhole =
        keepWhole.stream()
            .map(v -> v.getBytes(StandardCharsets.UTF_8))
            .filter(b -> b.length > 1 && b.length < maxLineBytes / 2)
            .toArray(byte[][]::new);
  }

  /** Reads {@code in} until end of stream, calling the consumer once per line, in order. */
  public void pump(InputStream in) throws IOException {
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0) {
      accept(buf, 0, n);
    }
    finish();
  }

  /** Feeds bytes; complete lines are emitted at once. */
  public void accept(byte[] buf, int off, int len) {
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

  /** Emits what is left as a last line (a stream that does not end with a newline). */
  public void finish() {
    if (length > 0) {
      emitLine();
    }
  }

  private void append(byte[] buf, int off, int len) {
    while (len > 0) {
      int room = maxLineBytes - length;
      int take = Math.min(room, len);
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
    out.accept(new String(line, 0, end, StandardCharsets.UTF_8));
    length = 0;
  }

  /**
   * Moves {@code cut} back to the start of any kept value that would straddle it (one that ends
   * past the buffer counts if what the buffer holds of it matches), until none does. The start of a
   * kept value is a character boundary. If that would leave nothing to emit (a line made of nothing
   * but overlapping kept values), the original cut stands.
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

  /** The buffer is full: emit up to the last UTF-8 character boundary and keep the rest. */
  private void emitPieceOfLongLine() {
    int cut = length;
    // Back off over continuation bytes (10xxxxxx) so a multi-byte character is not cut in two.
    int back = 0;
    while (back < 3 && cut - back - 1 > 0 && (line[cut - back - 1] & 0xC0) == 0x80) {
      back++;
    }
    if (back > 0 && (line[cut - back - 1] & 0xC0) == 0xC0) {
      int lead = line[cut - back - 1] & 0xFF;
      int needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
      if (back + 1 < needed) {
        cut = cut - back - 1; // the character is incomplete: keep it for the next piece
      }
    } else if (back == 0 && (line[cut - 1] & 0xC0) == 0xC0) {
      cut = cut - 1; // a lead byte alone at the end
    }
    cut = outsideKeptValues(cut);
    out.accept(new String(line, 0, cut, StandardCharsets.UTF_8));
    int rest = length - cut;
    System.arraycopy(line, cut, line, 0, rest);
    length = rest;
  }
}
