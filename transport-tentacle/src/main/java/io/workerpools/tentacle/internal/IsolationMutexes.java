package io.workerpools.tentacle.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The agent's named isolation mutexes: {@code FULL} isolation takes one exclusively, {@code NONE}
 * shares it. A fair semaphore per name (acquire and release happen on different threads, so not a
 * read-write lock); every acquire is timed, even with no wait, because the untimed {@code
 * tryAcquire} barges past scripts already waiting. A wait ends when its thread is interrupted (the
 * run is cancelled).
 */
final class IsolationMutexes {
  private static final int PERMITS = 1 << 20;
  private final Map<String, Semaphore> mutexes = new ConcurrentHashMap<>();

  /** A taken mutex: {@link #release()} exactly once. */
  static final class Held {
    private final Semaphore semaphore;
    private final int permits;

    private Held(Semaphore semaphore, int permits) {
      this.semaphore = semaphore;
      this.permits = permits;
    }

    void release() {
      semaphore.release(permits);
    }
  }

  private Semaphore of(String name) {
    return mutexes.computeIfAbsent(
        name == null ? "default" : name, n -> new Semaphore(PERMITS, true));
  }

  /** Takes the mutex if that needs no wait and no one waits before us; else null. */
  Held tryTake(String name, boolean exclusive) {
    Semaphore s = of(name);
    int permits = exclusive ? PERMITS : 1;
    try {
      return s.tryAcquire(permits, 0, TimeUnit.NANOSECONDS) ? new Held(s, permits) : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Waits, in turn, up to {@code millis} (0 or less: without limit); null on timeout. */
  Held take(String name, boolean exclusive, long millis) throws InterruptedException {
    Semaphore s = of(name);
    int permits = exclusive ? PERMITS : 1;
    long wait = millis <= 0 ? Long.MAX_VALUE : millis;
    return s.tryAcquire(permits, wait, TimeUnit.MILLISECONDS) ? new Held(s, permits) : null;
  }
}
