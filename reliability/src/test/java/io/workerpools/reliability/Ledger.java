package io.workerpools.reliability;

import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepLogLine;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreListener;
import io.workerpools.transport.LogLine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak's book of record. It hears every store event (in the store's own order: the in-memory
 * store calls listeners under its lock) and every dispatch event, and keeps what each step was
 * planned to do. Invariants that can be checked as things happen are checked at once and any breach
 * is written down with the store sequence number; the rest are checked by {@link #verify}.
 *
 * <p>Continuous checks (store order):
 *
 * <ul>
 *   <li>no lease is granted on a worker above its cap, disabled, draining, or no longer configured;
 *   <li>no lease is granted on the built-in worker while the default pool holds a worker, while the
 *       built-in worker is switched off, or for a pool other than the current default;
 *   <li>no more invocations of one action run at once on one host node than its max parallelism
 *       (counted from the step's start to the release of its lease; the gate is per dispatcher);
 *   <li>no lease of a step still running expires (its holder was alive and renewing).
 * </ul>
 */
final class Ledger implements StoreListener, DispatchListener {

  /** What one step was asked to do. */
  record Plan(
      String stepId,
      String node,
      int lines,
      int exitCode,
      boolean expectTimeout,
      Optional<String> action,
      int maxParallelism) {}

  private final Path tokens;
  private final Map<String, Plan> plans = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> resultCompletions = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> finishedCalls = new ConcurrentHashMap<>();
  private final Map<String, StepResult> results = new ConcurrentHashMap<>();
  private final Map<String, List<LogLine>> logs = new ConcurrentHashMap<>();
  private final List<String> violations = new ArrayList<>();

  // ---- store-side state; guarded by this ----
  private long seq;
  private final Map<WorkerId, Worker> workers = new HashMap<>();
  private final Set<WorkerId> draining = new HashSet<>();
  private PoolId defaultPool;
  private boolean builtInEnabled;
  private final Map<String, LeaseRecord> openLeases = new HashMap<>();
  private final Map<WorkerId, Integer> leaseCount = new HashMap<>();
  private final Map<WorkerId, Integer> maxLeaseCount = new HashMap<>();
  private final Map<String, String> startedLeaseAction = new HashMap<>();
  private final Map<String, Integer> actionInFlight = new HashMap<>();
  private final Map<String, Integer> actionMaxSeen = new HashMap<>();
  private final Set<String> runningLeases = new HashSet<>();
  private long leasesGranted;
  private long leasesReleased;
  private long leasesExpired;
  private long builtInLeases;
  private long builtInLeasesRefusedByRule;
  private long defaultPoolOccupiedPeriods;
  private boolean defaultPoolOccupied;
  private final Map<String, Integer> expiredByHolder = new TreeMap<>();

  /**
   * Per step leased on the built-in worker: the default pool's size when that lease was granted.
   */
  private final Map<String, Long> builtInGrants = new HashMap<>();

  Ledger(Path tokens, Infrastructure initial) {
    this.tokens = tokens;
    this.defaultPool = initial.defaultPool();
    this.builtInEnabled = initial.builtInWorkerEnabled();
    for (Worker w : initial.workers().values()) {
      workers.put(w.id(), w);
    }
    this.defaultPoolOccupied = defaultPoolMembers() > 0;
  }

  // ---------------------------------------------------------------- planning and results

  void planned(Plan p) {
    if (plans.putIfAbsent(p.stepId(), p) != null) {
      throw new IllegalArgumentException("step id planned twice: " + p.stepId());
    }
    logs.put(p.stepId(), java.util.Collections.synchronizedList(new ArrayList<>()));
  }

  /** The sink that collects one step's log lines. */
  StepLogSink sinkFor(String stepId) {
    return (StepLogLine l) -> {
      List<LogLine> list = logs.get(l.stepId());
      if (list == null || !l.stepId().equals(stepId)) {
        violation("log line of step " + l.stepId() + " delivered to the sink of step " + stepId);
        return;
      }
      list.add(l.line());
    };
  }

  /** A step's result future completed. */
  void resultCompleted(StepResult r) {
    resultCompletions.computeIfAbsent(r.stepId(), k -> new AtomicInteger()).incrementAndGet();
    StepResult previous = results.putIfAbsent(r.stepId(), r);
    if (previous != null) {
      violation("step " + r.stepId() + " completed twice: " + previous + " then " + r);
    }
  }

  int resultsSoFar() {
    return results.size();
  }

  int planned() {
    return plans.size();
  }

  // ---------------------------------------------------------------- dispatch listener

  @Override
  public void onStarted(Step step, WorkerLease lease) {
    Plan p = plans.get(step.stepId());
    synchronized (this) {
      runningLeases.add(lease.id());
      if (p != null && p.action().isPresent() && p.maxParallelism() > 0) {
        // Max parallelism is a gate of one dispatcher (one host node): count per node.
        String action = p.node() + "/" + p.action().get();
        startedLeaseAction.put(lease.id(), action);
        int n = actionInFlight.merge(action, 1, Integer::sum);
        actionMaxSeen.merge(action, n, Math::max);
        if (n > p.maxParallelism()) {
          violation(
              "action "
                  + action
                  + " has "
                  + n
                  + " invocations running, above its max parallelism "
                  + p.maxParallelism());
        }
      }
    }
  }

  @Override
  public void onFinished(Step step, StepResult result) {
    finishedCalls.computeIfAbsent(result.stepId(), k -> new AtomicInteger()).incrementAndGet();
  }

  // ---------------------------------------------------------------- store listener

  @Override
  public synchronized void onEvent(StoreEvent e) {
    seq++;
    if (e instanceof StoreEvent.WorkerPut p) {
      workers.put(p.worker().id(), p.worker());
    } else if (e instanceof StoreEvent.WorkerRemoved r) {
      workers.remove(r.worker().id());
      draining.remove(r.worker().id());
    } else if (e instanceof StoreEvent.DefaultPoolMoved m) {
      defaultPool = m.current();
    } else if (e instanceof StoreEvent.BuiltInWorkerSwitched s) {
      builtInEnabled = s.enabled();
    } else if (e instanceof StoreEvent.DrainingChanged d) {
      if (d.draining()) {
        draining.add(d.worker());
      } else {
        draining.remove(d.worker());
      }
    } else if (e instanceof StoreEvent.LeaseAcquired a) {
      leaseAcquired(a.lease());
    } else if (e instanceof StoreEvent.LeaseEnded end) {
      leaseEnded(end.lease(), end.expired());
    } else if (e instanceof StoreEvent.Resync) {
      violation("the in-memory store sent a Resync, which it never should");
    }
    boolean occupied = defaultPoolMembers() > 0;
    if (occupied && !defaultPoolOccupied) {
      defaultPoolOccupiedPeriods++;
    }
    defaultPoolOccupied = occupied;
  }

  private long defaultPoolMembers() {
    return workers.values().stream().filter(w -> w.pools().contains(defaultPool)).count();
  }

  private void leaseAcquired(LeaseRecord r) {
    leasesGranted++;
    if (openLeases.put(r.leaseId(), r) != null) {
      violation("lease " + r.leaseId() + " granted twice");
    }
    int n = leaseCount.merge(r.worker(), 1, Integer::sum);
    maxLeaseCount.merge(r.worker(), n, Math::max);
    if (r.worker().equals(Worker.BUILT_IN_ID)) {
      builtInLeases++;
      long members = defaultPoolMembers();
      builtInGrants.put(r.stepId(), members);
      if (members > 0) {
        violation(
            "the built-in worker was leased for step "
                + r.stepId()
                + " while the default pool "
                + defaultPool
                + " held "
                + members
                + " worker(s)");
      }
      if (!builtInEnabled) {
        violation("the built-in worker was leased for step " + r.stepId() + " while switched off");
      }
      if (!r.pool().equals(defaultPool)) {
        violation(
            "the built-in worker was leased for step "
                + r.stepId()
                + " through pool "
                + r.pool()
                + ", which is not the default pool "
                + defaultPool);
      }
      return;
    }
    Worker w = workers.get(r.worker());
    if (w == null) {
      violation("lease on " + r.worker() + " for step " + r.stepId() + ": no such worker now");
      return;
    }
    if (!w.enabled()) {
      violation("lease on disabled worker " + r.worker() + " for step " + r.stepId());
    }
    if (draining.contains(w.id())) {
      violation("lease on draining worker " + r.worker() + " for step " + r.stepId());
    }
    if (n > w.capOrMax()) {
      violation(
          "worker "
              + r.worker()
              + " holds "
              + n
              + " leases, above its cap "
              + w.capOrMax()
              + " (step "
              + r.stepId()
              + ")");
    }
  }

  private void leaseEnded(LeaseRecord r, boolean expired) {
    if (openLeases.remove(r.leaseId()) == null) {
      violation("lease " + r.leaseId() + " ended twice, or ended without being granted");
      return;
    }
    leaseCount.computeIfPresent(r.worker(), (k, v) -> v <= 1 ? null : v - 1);
    if (expired) {
      leasesExpired++;
      expiredByHolder.merge(r.holder(), 1, Integer::sum);
    } else {
      leasesReleased++;
    }
    boolean wasRunning = runningLeases.remove(r.leaseId());
    if (expired && wasRunning) {
      violation(
          "lease "
              + r.leaseId()
              + " of running step "
              + r.stepId()
              + " expired although its holder was alive");
    }
    String action = startedLeaseAction.remove(r.leaseId());
    if (action != null) {
      actionInFlight.computeIfPresent(action, (k, v) -> v <= 1 ? null : v - 1);
    }
  }

  private synchronized void violation(String what) {
    violations.add("#" + seq + " " + what);
  }

  // ---------------------------------------------------------------- figures

  synchronized int openLeaseCount() {
    return openLeases.size();
  }

  synchronized List<LeaseRecord> openLeases() {
    return List.copyOf(openLeases.values());
  }

  synchronized Map<String, Long> leaseFigures() {
    Map<String, Long> m = new java.util.LinkedHashMap<>();
    m.put("granted", leasesGranted);
    m.put("released", leasesReleased);
    m.put("expired (holder gone)", leasesExpired);
    m.put("on the built-in worker", builtInLeases);
    m.put("default pool occupied periods", defaultPoolOccupiedPeriods);
    return m;
  }

  synchronized Map<String, Integer> expiredByHolder() {
    return Map.copyOf(expiredByHolder);
  }

  synchronized Map<WorkerId, Integer> maxLeaseCount() {
    return Map.copyOf(maxLeaseCount);
  }

  synchronized Map<String, Integer> actionMaxSeen() {
    return Map.copyOf(actionMaxSeen);
  }

  synchronized List<String> violationsSoFar() {
    return List.copyOf(violations);
  }

  // ---------------------------------------------------------------- the final check

  /** The verdict: counts and the list of everything that broke an invariant. */
  record Verdict(
      int planned,
      int terminal,
      int lost,
      int completedTwice,
      int ranTwice,
      int ranButNeverStarted,
      int ranElsewhere,
      int logFaults,
      Map<StepResult.Status, Integer> byStatus,
      int ranOnBuiltIn,
      List<String> violations) {

    boolean clean() {
      return violations.isEmpty();
    }
  }

  private static final Pattern LINE = Pattern.compile("line-(\\d+) (\\S+)");

  /**
   * Checks every step: one terminal status; the script ran at most once, exactly once when it
   * exited, never when it could not start or had nowhere to run; it ran in the home of the worker
   * its result names; a successful step's log lines arrived once each, in order.
   *
   * @param homes where each worker's scripts run (its agent home, or the built-in worker's base)
   */
  Verdict verify(Map<WorkerId, Path> homes) {
    List<String> v = new ArrayList<>(violationsSoFar());
    Map<StepResult.Status, Integer> byStatus = new EnumMap<>(StepResult.Status.class);
    int lost = 0;
    int twice = 0;
    int ranTwice = 0;
    int ranNotStarted = 0;
    int elsewhere = 0;
    int logFaults = 0;
    int ranOnBuiltIn = 0;
    Map<String, Long> grants;
    synchronized (this) {
      grants = Map.copyOf(builtInGrants);
    }
    for (Plan p : plans.values()) {
      String id = p.stepId();
      StepResult r = results.get(id);
      int completions = count(resultCompletions, id);
      int finished = count(finishedCalls, id);
      if (r == null) {
        lost++;
        v.add("step " + id + " reached no terminal status (lost)");
        continue;
      }
      byStatus.merge(r.status(), 1, Integer::sum);
      if (completions != 1 || finished != 1) {
        twice++;
        v.add(
            "step "
                + id
                + " completed "
                + completions
                + " time(s) and was reported finished "
                + finished
                + " time(s)");
      }
      List<String> runs = runsOf(id);
      if (runs.size() > 1) {
        ranTwice++;
        v.add("step " + id + " ran " + runs.size() + " times: " + runs + " (" + r + ")");
      }
      boolean exited =
          r.status() == StepResult.Status.SUCCEEDED
              || r.status() == StepResult.Status.SCRIPT_FAILED;
      if (exited && runs.size() != 1) {
        v.add("step " + id + " exited (" + r + ") but its script ran " + runs.size() + " times");
      }
      if ((r.status() == StepResult.Status.NOWHERE_TO_RUN
              || r.status() == StepResult.Status.COULD_NOT_START)
          && !runs.isEmpty()) {
        ranNotStarted++;
        v.add("step " + id + " ended " + r + " yet its script ran: " + runs);
      }
      if (!runs.isEmpty() && r.worker().isPresent()) {
        Path home = homes.get(r.worker().get());
        String pwd = runs.get(0);
        if (home == null || !pwd.startsWith(home.toString())) {
          elsewhere++;
          v.add(
              "step "
                  + id
                  + " says it ran on "
                  + r.worker().get()
                  + " (home "
                  + home
                  + ") but its script ran in "
                  + pwd);
        }
      }
      if (!runs.isEmpty() && r.worker().filter(Worker.BUILT_IN_ID::equals).isPresent()) {
        // The security promise, from the results: a script that ran on the built-in worker ran
        // under a built-in lease granted while the default pool held no worker.
        ranOnBuiltIn++;
        Long members = grants.get(id);
        if (members == null) {
          v.add("step " + id + " ran on the built-in worker without a built-in lease");
        } else if (members > 0) {
          v.add(
              "step "
                  + id
                  + " ran on the built-in worker under a lease granted while the default pool held "
                  + members
                  + " worker(s)");
        }
      }
      if (r.status() == StepResult.Status.SUCCEEDED && p.exitCode() != 0) {
        v.add("step " + id + " was to exit " + p.exitCode() + " but succeeded");
      }
      if (r.status() == StepResult.Status.SCRIPT_FAILED
          && r.exitCode().orElse(-1) != p.exitCode()) {
        v.add("step " + id + " was to exit " + p.exitCode() + " but " + r);
      }
      if (r.status() == StepResult.Status.SUCCEEDED) {
        String problem = checkLines(id, p.lines(), logs.get(id));
        if (problem != null) {
          logFaults++;
          v.add("step " + id + " log: " + problem);
        }
      }
    }
    for (String stray : results.keySet()) {
      if (!plans.containsKey(stray)) {
        v.add("a result for unplanned step " + stray);
      }
    }
    return new Verdict(
        plans.size(),
        results.size(),
        lost,
        twice,
        ranTwice,
        ranNotStarted,
        elsewhere,
        logFaults,
        byStatus,
        ranOnBuiltIn,
        v);
  }

  /** Null when the lines are right; else what is wrong. */
  static String checkLines(String token, int expected, List<LogLine> lines) {
    if (lines == null) {
      return "no lines collected";
    }
    List<LogLine> copy;
    synchronized (lines) {
      copy = List.copyOf(lines);
    }
    int next = 1;
    int stderr = 0;
    for (LogLine l : copy) {
      if (l.source() == LogLine.Source.STDERR) {
        if (!l.text().equals("stderr-line " + token)) {
          return "unexpected stderr line '" + l.text() + "'";
        }
        stderr++;
        continue;
      }
      if (l.source() != LogLine.Source.STDOUT) {
        continue;
      }
      Matcher m = LINE.matcher(l.text());
      if (!m.matches() || !m.group(2).equals(token)) {
        return "unexpected stdout line '" + l.text() + "'";
      }
      int n = Integer.parseInt(m.group(1));
      if (n != next) {
        return "stdout line " + n + " arrived where line " + next + " was due";
      }
      next++;
    }
    if (next - 1 != expected) {
      return (next - 1) + " stdout lines arrived, " + expected + " were written";
    }
    int expectedStderr = expected > 0 ? 1 : 0;
    if (stderr != expectedStderr) {
      return stderr + " stderr lines arrived, " + expectedStderr + " was written";
    }
    return null;
  }

  /** The working directories recorded by each run of the step's script (one line per run). */
  List<String> runsOf(String stepId) {
    Path f = tokens.resolve(stepId);
    if (!Files.exists(f)) {
      return List.of();
    }
    try {
      List<String> out = new ArrayList<>();
      for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        int sp = line.indexOf(' ');
        out.add(sp < 0 ? "" : line.substring(sp + 1));
      }
      return out;
    } catch (IOException e) {
      return List.of("<unreadable: " + e + ">");
    }
  }

  private static int count(Map<String, AtomicInteger> m, String id) {
    AtomicInteger a = m.get(id);
    return a == null ? 0 : a.get();
  }
}
