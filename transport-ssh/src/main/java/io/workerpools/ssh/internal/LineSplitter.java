package io.workerpools.ssh.internal;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * An output stream that cuts bytes into lines (at {@code \n}, dropping a {@code \r} before it) and
 * hands each line, decoded as UTF-8, to a consumer. Bytes are decoded per line, so a multi-byte
 * character split across two writes is decoded whole. A line longer than {@link #MAX_LINE} bytes is
 * cut. Not thread-safe: one writer (MINA writes a channel's stream from one thread at a time).
 */
public final class LineSplitter extends OutputStream {
  /** The longest line handed on whole, in bytes. */
  public static final int MAX_LINE = 64 * 1024;

  private final Consumer<String> lines;
  private final ByteArrayOutputStream current = new ByteArrayOutputStream(256);

  public LineSplitter(Consumer<String> lines) {
    this.lines = lines;
  }

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    int start = off;
    int end = off + len;
    for (int i = off; i < end; i++) {
      if (b[i] == '\n') {
        current.write(b, start, i - start);
        emit();
        start = i + 1;
      } else if (current.size() + (i - start) >= MAX_LINE) {
        current.write(b, start, i - start);
        emit();
        start = i;
      }
    }
    current.write(b, start, end - start);
  }

  /** Hands on the last line if it had no terminator. Idempotent. */
  public synchronized void finish() {
    if (current.size() > 0) {
      emit();
    }
  }

  @Override
  public void close() {
    // The channel closes its streams; the last partial line is handed on by finish().
  }

  private void emit() {
    byte[] bytes = current.toByteArray();
    current.reset();
    int n = bytes.length;
    if (n > 0 && bytes[n - 1] == '\r') {
      n--;
    }
    lines.accept(new String(bytes, 0, n, StandardCharsets.UTF_8));
  }
}
