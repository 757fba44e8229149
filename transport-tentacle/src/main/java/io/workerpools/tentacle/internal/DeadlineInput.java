package io.workerpools.tentacle.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * Reads from a socket under an absolute deadline: before each read the socket's read timeout is set
 * to what is left, so a peer that drips a byte just within each read timeout still cannot hold the
 * reader past the deadline. Used by one reader thread at a time.
 */
final class DeadlineInput extends FilterInputStream {
  private final Socket socket;
  private volatile long deadlineNanos = Long.MAX_VALUE;

  DeadlineInput(Socket socket, InputStream in) {
    super(in);
    this.socket = socket;
  }

  /** Sets the deadline {@code millis} from now. */
  void deadlineIn(long millis) {
    deadlineNanos = System.nanoTime() + Math.max(1, millis) * 1_000_000L;
  }

  private void arm() throws IOException {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("the peer did not answer in full before the deadline");
    }
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000L)));
  }

  @Override
  public int read() throws IOException {
    arm();
    return super.read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    arm();
    return super.read(b, off, len);
  }
}
