package io.workerpools.local.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One script handed to the {@link Launcher}: its token, what has arrived on its three connections
 * (control, stdout, stderr), and which ending it has reported. Fed by the output thread ({@link
 * LaunchOutput}) and by the launcher's event threads.
 */
final class Launch {
  private static final Logger LOG = LoggerFactory.getLogger(Launch.class);

  final String token;

  /** Null for the launcher's start-up probe, whose connection is only checked and closed. */
  final ScriptEvents events;

  private final Runnable forget;
  private final StringBuilder control = new StringBuilder();
  private boolean ended; // guarded by this
  private boolean connected; // guarded by this
  private boolean exitSeen; // guarded by this
  private long pid = -1; // guarded by this
  private int openStreams = 3; // guarded by this: control, stdout, stderr

  /**
   * @param forget removes this launch from the tables that find it (called once it is settled)
   */
  Launch(String token, ScriptEvents events, Runnable forget) {
    this.token = token;
    this.events = events;
    this.forget = forget;
  }

  synchronized void connected() {
    connected = true;
  }

  synchronized boolean isConnected() {
    return connected;
  }

  /** Bytes on the control connection: lines "P pid", "X status", "F reason". */
  void control(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      char c = (char) (b[i] & 0xFF);
      if (c != '\n') {
        if (control.length() < 64) {
          control.append(c);
        }
        continue;
      }
      String line = control.toString();
      control.setLength(0);
      try {
        if (line.startsWith("P ")) {
          long p = Long.parseLong(line.substring(2));
          synchronized (this) {
            pid = p;
          }
          events.onStarted(p, true);
        } else if (line.startsWith("X ")) {
          int status = Integer.parseInt(line.substring(2));
          synchronized (this) {
            exitSeen = true;
          }
          events.onExit(status);
        } else if (line.startsWith("F ")) {
          couldNotStart("the launcher could not enter the working directory");
        }
      } catch (NumberFormatException e) {
        LOG.warn("unreadable launcher report: {}", line);
      }
    }
  }

  void couldNotStart(String why) {
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      if (openStreams <= 0 || !connected) {
        forget.run();
      }
    }
    events.onCouldNotStart(why);
  }

  void streamEnded(int stream) {
    boolean call;
    boolean lostNow = false;
    long p;
    synchronized (this) {
      openStreams--;
      call = !ended && stream != 0;
      if (stream == 0 && !exitSeen && !ended) {
        ended = true; // the waiter is gone without reporting the exit
        lostNow = true;
      }
      if (openStreams <= 0) {
        forget.run();
      }
      p = pid;
    }
    if (call) {
      events.onStreamEnd(stream == 1);
    }
    if (lostNow) {
      events.onLost(
          p > 0
              ? "the launcher's waiter for this script (pid "
                  + p
                  + ") ended without reporting its exit"
              : "the launcher's waiter ended before it started this script",
          p);
    }
  }

  /** The launcher process ended and this launch never connected back: it never started. */
  void neverConnected() {
    synchronized (this) {
      if (ended || connected) {
        return;
      }
      ended = true;
      forget.run();
    }
    if (events != null) {
      events.onCouldNotStart("the launcher process ended before it started this script");
    }
  }
}
