package io.workerpools.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * CPU time a process tree has used, from the kernel's own accounting in {@code /proc} (Linux).
 *
 * <p>The tree's CPU is the root's {@code utime + stime} (all its threads) plus {@code cutime +
 * cstime} (the children it has already waited for, and theirs), plus the same for every live
 * descendant, skipping the subtrees of the processes {@code excluded}. A child's CPU reaches its
 * parent's {@code cutime}/{@code cstime} only when the parent reaps it after it exits; a live child
 * is counted by the walk instead. So the agents this program starts are its children but never
 * count as its CPU: they stay alive while it measures, and the walk skips them. Each agent's own
 * tree is measured the same way, rooted at the agent.
 *
 * <p>Read the tree before and after a batch, with no step process alive at either reading (see
 * {@link #settle}), and subtract. Resolution: the kernel's clock tick ({@code USER_HZ}, 10 ms).
 */
final class ProcessCpu {
  /** The kernel's {@code USER_HZ}: 100 on every Linux architecture Java runs on. */
  static final long TICKS_PER_SECOND = 100;

  private ProcessCpu() {}

  /**
   * CPU milliseconds used so far by {@code root}'s tree, not counting {@code excluded} subtrees.
   */
  static long treeMillis(ProcessHandle root, Set<Long> excluded) {
    return ticks(root, excluded) * 1000 / TICKS_PER_SECOND;
  }

  /** The pids in {@code root}'s tree (root included), not counting {@code excluded} subtrees. */
  static Set<Long> treePids(ProcessHandle root, Set<Long> excluded) {
    Set<Long> pids = new HashSet<>();
    collect(root, excluded, pids);
    return pids;
  }

  private static void collect(ProcessHandle p, Set<Long> excluded, Set<Long> into) {
    into.add(p.pid());
    p.children().filter(c -> !excluded.contains(c.pid())).forEach(c -> collect(c, excluded, into));
  }

  private static long ticks(ProcessHandle p, Set<Long> excluded) {
    long own = ownTicks(p.pid());
    long children =
        p.children()
            .filter(c -> !excluded.contains(c.pid()))
            .mapToLong(c -> ticks(c, excluded))
            .sum();
    return own + children;
  }

  /** {@code utime + stime + cutime + cstime} of one process; 0 if it is gone. */
  static long ownTicks(long pid) {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return 0; // gone: readings are taken when no step process starts or ends (see settle)
    }
    return ticksOf(stat);
  }

  /**
   * {@code utime + stime + cutime + cstime} from the text of a {@code /proc/<pid>/stat}: "pid
   * (comm) state ppid ...". The command name may hold spaces and parentheses, so fields are counted
   * from the last ')': fields 14-17 (1-based) are utime, stime, cutime, cstime.
   */
  static long ticksOf(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    return Long.parseLong(f[11])
        + Long.parseLong(f[12])
        + Long.parseLong(f[13])
        + Long.parseLong(f[14]);
  }

  /**
   * Waits (up to {@code limit}) until {@code quiet} holds, polling every 20 ms: used before a
   * reading, so that no step process is half-way through being reaped.
   *
   * @return whether it held before the deadline
   */
  static boolean settle(BooleanSupplier quiet, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!quiet.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(20); // polling a condition with a deadline; nothing is made to overlap
    }
    return true;
  }
}
