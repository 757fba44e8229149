package io.workerpools.tentacle.internal;

import io.workerpools.transport.ScriptResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The scripts a transport has running, so that closing it ends each one. */
public final class RunningScripts {
  private final Set<RemoteScript> running = ConcurrentHashMap.newKeySet();

  /** Tracks {@code e} until its result completes; returns it. */
  public RemoteScript track(RemoteScript e) {
    running.add(e);
    e.future().whenComplete((r, x) -> running.remove(e));
    return e;
  }

  /**
   * Cancels every running script (a cancel is sent to each agent), waits up to {@code waitMillis}
   * in all for the agents to confirm, then completes what is left {@code CANCELLED}.
   */
  public void cancelAll(long waitMillis) {
    List<RemoteScript> live = new ArrayList<>(running);
    for (RemoteScript e : live) {
      e.cancel();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
    for (RemoteScript e : live) {
      long left = deadline - System.nanoTime();
      try {
        e.future().get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException | TimeoutException x) {
        // completed below
      }
      closed(e);
    }
    for (RemoteScript e : running) {
      closed(e);
    }
  }

  private static void closed(RemoteScript e) {
    e.finish(
        ScriptResult.of(ScriptResult.Outcome.CANCELLED, e.elapsed(), "the transport was closed"));
  }
}
