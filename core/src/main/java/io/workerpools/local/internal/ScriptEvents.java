package io.workerpools.local.internal;

/**
 * What a started script reports, in this order per script: {@link #onStarted} (unless it could not
 * start), output and the end of each of its two streams, and one of {@link #onExit}, {@link
 * #onCouldNotStart} or {@link #onLost}. Called on a {@link Starter}'s threads: be quick, never
 * block.
 */
public interface ScriptEvents {
  /**
   * The script runs as process {@code pid}; {@code ownGroup}: it leads its own process group (its
   * pid is the group's id), so that signalling the group reaches everything it started.
   */
  void onStarted(long pid, boolean ownGroup);

  /** Bytes of stdout ({@code stdout} true) or stderr, in order within each stream. */
  void onOutput(boolean stdout, byte[] bytes, int offset, int length);

  /** One output stream reached its end. Called once per stream. */
  void onStreamEnd(boolean stdout);

  /** The script exited with this status (128 + signal if a signal ended it). */
  void onExit(int status);

  /** The script could not be started; nothing ran. */
  void onCouldNotStart(String why);

  /**
   * The starter lost track of the script: its end is unknown. {@code pid} is the script's process
   * group if it had started (the caller should kill it), else -1.
   */
  void onLost(String why, long pid);
}
