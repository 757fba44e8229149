package io.workerpools.tentacle.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.workerpools.tentacle.internal.Messages.LogEntry;
import io.workerpools.tentacle.internal.Messages.ScriptStatus;
import io.workerpools.tentacle.internal.Messages.StartScript;
import io.workerpools.transport.SensitiveMasker;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's script service. Each ticket (made by the host) gets a workspace directory {@code
 * <work>/<ticket>/} holding {@code script.*}, the working directory {@code work/}, an append-only
 * JSON-lines log {@code log.jsonl} (masked before writing) and {@code state.json} (written
 * atomically). A second start with the same ticket returns the existing run's status: the script
 * never runs twice.
 *
 * <p>Threads: two reader threads per running process (stdout, stderr) and one per script waiting
 * for its isolation mutex, from a cached pool; exits are observed through {@link Process#onExit()}.
 */
public final class ScriptService implements AutoCloseable {
  /** Special exit codes, as Tentacle has them. */
  public static final int CANCELLED = -43;

  public static final int TIMED_OUT = -44;
  public static final int UNKNOWN_TICKET = -45;
  public static final int UNKNOWN_RESULT = -46;
  public static final int COULD_NOT_START = -47;
  public static final int MUTEX_TIMEOUT = -48;

  private static final Logger LOG = LoggerFactory.getLogger(ScriptService.class);
  private static final Pattern TICKET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final ObjectMapper JSON = Wire.MAPPER;
  private static final int MUTEX_PERMITS = 1 << 20;

  /** The most log text one status reply carries, in (estimated) JSON bytes: 8 MiB. */
  static final long MAX_REPLY_LOG_BYTES = 8L * 1024 * 1024;

  private final Path root;
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final Map<String, Semaphore> mutexes = new ConcurrentHashMap<>();
  private final ExecutorService threads;
  private final ScheduledExecutorService timer;
  private final AtomicInteger threadNo = new AtomicInteger();

  /** The persisted state of a run. */
  public record State(
      String ticket,
      String state,
      String outcome,
      int exitCode,
      String message,
      long startedMillis,
      long endedMillis) {}

  /**
   * Opens the work root: runs left {@code PENDING} or {@code RUNNING} by a previous agent process
   * are marked {@code COMPLETE} with {@code UNKNOWN_RESULT}; workspaces older than {@code
   * retention} are deleted.
   */
  public ScriptService(Path root, Duration retention) {
    this.root = root;
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "agent-script-" + threadNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "agent-script-timer");
              t.setDaemon(true);
              return t;
            });
    try {
      OwnerOnly.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the work directory " + root, e);
    }
    recover(retention);
  }

  private void recover(Duration retention) {
    long cutoff = System.currentTimeMillis() - retention.toMillis();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
      for (Path dir : dirs) {
        Path stateFile = dir.resolve("state.json");
        if (!Files.isRegularFile(stateFile)) {
          continue;
        }
        try {
          State s = JSON.readValue(stateFile.toFile(), State.class);
          if (Files.getLastModifiedTime(stateFile).toMillis() < cutoff) {
            LOG.info("deleting the stale workspace of ticket {}", s.ticket());
            deleteTree(dir);
            continue;
          }
          if (!"COMPLETE".equals(s.state())) {
            writeState(
                dir,
                new State(
                    s.ticket(),
                    "COMPLETE",
                    "UNKNOWN_RESULT",
                    UNKNOWN_RESULT,
                    "the agent restarted while the script ran; its outcome is unknown",
                    s.startedMillis(),
                    System.currentTimeMillis()));
          }
        } catch (IOException e) {
          LOG.warn("ignoring the unreadable workspace {}: {}", dir.getFileName(), e.toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the work directory " + root, e);
    }
  }

  /** Checks a ticket (it becomes a directory name). */
  public static String checkTicket(String ticket) {
    if (ticket == null || !TICKET.matcher(ticket).matches()) {
      throw new IllegalArgumentException(
          "ticket '"
              + ticket
              + "' is not valid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
    }
    return ticket;
  }

  /** Starts a script, or returns the status of the run already started with this ticket. */
  public ScriptStatus start(StartScript s) throws InterruptedException {
    String ticket = checkTicket(s.ticket());
    Path dir = root.resolve(ticket);
    Run run;
    boolean created = false;
    synchronized (runs) {
      run = runs.get(ticket);
      if (run == null && Files.exists(dir.resolve("state.json"))) {
        run = load(ticket); // started before an agent restart: never run twice
      }
      if (run == null) {
        run = create(s, dir);
        runs.put(ticket, run);
        created = true;
      }
    }
    if (created) {
      // Spawned on this thread when the mutex is free at once (one thread hop less on the
      // critical path of a short script); handed to the pool when it must wait for it.
      try {
        run.execute(s, false);
      } catch (RuntimeException e) {
        // Never leave a run PENDING: whatever failed, it ends, and says why.
        LOG.warn("cannot start ticket {}: {}", ticket, e.toString());
        run.end("COULD_NOT_START", COULD_NOT_START, "the agent could not start it: " + e);
      }
    }
    return run.awaitStatus(0, s.waitForMillis());
  }

  /** The status of a run, held up to {@code waitForMillis} until there is news. */
  public ScriptStatus status(String ticket, long after, long waitForMillis)
      throws InterruptedException {
    Run run = find(ticket);
    if (run == null) {
      return unknownTicket(ticket);
    }
    return run.awaitStatus(after, waitForMillis);
  }

  /** Kills the run's process tree; returns its status. */
  public ScriptStatus cancel(String ticket) throws InterruptedException {
    Run run = find(ticket);
    if (run == null) {
      return unknownTicket(ticket);
    }
    run.cancel("CANCELLED", CANCELLED, "cancelled on request");
    return run.awaitStatus(Long.MAX_VALUE, 2000);
  }

  /** The host has read everything: deletes the workspace. Cancels the run if it still runs. */
  public ScriptStatus complete(String ticket) throws InterruptedException {
    Run run = find(ticket);
    if (run == null) {
      return unknownTicket(ticket);
    }
    if (!run.isComplete()) {
      run.cancel("CANCELLED", CANCELLED, "completed by the host before it ended");
      run.awaitStatus(Long.MAX_VALUE, 5000);
    }
    ScriptStatus st = run.snapshot(Long.MAX_VALUE);
    synchronized (runs) {
      runs.remove(ticket);
      run.closeLog();
      deleteTree(run.dir);
    }
    return st;
  }

  /** The tickets of runs that have not completed. */
  public List<String> running() {
    List<String> out = new ArrayList<>();
    runs.forEach(
        (t, r) -> {
          if (!r.isComplete()) {
            out.add(t);
          }
        });
    return out;
  }

  /** Waits for running scripts to end, up to the timeout; returns whether all ended. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Run r : runs.values()) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0 || !r.awaitComplete(left)) {
        return false;
      }
    }
    return true;
  }

  private Run find(String ticket) {
    checkTicket(ticket);
    synchronized (runs) {
      Run run = runs.get(ticket);
      if (run == null && Files.exists(root.resolve(ticket).resolve("state.json"))) {
        run = load(ticket);
      }
      return run;
    }
  }

  private Run load(String ticket) {
    Path dir = root.resolve(ticket);
    try {
      State s = JSON.readValue(dir.resolve("state.json").toFile(), State.class);
      Run run = new Run(ticket, dir, SensitiveMasker.none(), s);
      Path log = dir.resolve("log.jsonl");
      if (Files.exists(log)) {
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
          lines
              .filter(l -> !l.isBlank())
              .forEach(
                  l -> {
                    try {
                      run.log.add(JSON.readValue(l, LogEntry.class));
                    } catch (IOException e) {
                      // A line cut short by a crash: the rest of the log is still good.
                    }
                  });
        }
      }
      runs.put(ticket, run);
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the workspace of ticket " + ticket, e);
    }
  }

  private Run create(StartScript s, Path dir) {
    try {
      OwnerOnly.createDirectories(dir);
      OwnerOnly.createDirectories(dir.resolve("work"));
      State st = new State(s.ticket(), "PENDING", null, 0, "", System.currentTimeMillis(), 0);
      writeState(dir, st);
      SensitiveMasker masker =
          SensitiveMasker.of(s.sensitiveValues() == null ? List.of() : s.sensitiveValues());
      return new Run(s.ticket(), dir, masker, st);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the workspace of ticket " + s.ticket(), e);
    }
  }

  private static ScriptStatus unknownTicket(String ticket) {
    return new ScriptStatus(
        ticket,
        "COMPLETE",
        "UNKNOWN_TICKET",
        UNKNOWN_TICKET,
        List.of(),
        0,
        "this agent has no script with ticket "
            + ticket
            + " (never started, or already completed)");
  }

  static void writeState(Path dir, State s) throws IOException {
    Path tmp = dir.resolve("state.json.tmp");
    OwnerOnly.write(tmp, JSON.writeValueAsBytes(s));
    try {
      Files.move(
          tmp,
          dir.resolve("state.json"),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  LOG.warn("cannot delete {}: {}", p, e.toString());
                }
              });
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }

  private static String[] interpreter(String syntax) {
    switch (syntax) {
      case "BASH":
        return new String[] {"bash", "script.sh"};
      case "SH":
        return new String[] {"sh", "script.sh"};
      case "PYTHON":
        return new String[] {"python3", "script.py"};
      case "POWERSHELL":
        return new String[] {"pwsh", "script.ps1"};
      default:
        throw new IllegalArgumentException(
            "unknown script syntax '" + syntax + "': use BASH, SH, PYTHON or POWERSHELL");
    }
  }

  /** Validates a start request before anything is created. */
  public static void validate(StartScript s) {
    checkTicket(s.ticket());
    if (s.syntax() == null) {
      throw new IllegalArgumentException("'syntax' is required");
    }
    interpreter(s.syntax());
    if (s.body() == null) {
      throw new IllegalArgumentException("'body' is required");
    }
    if (s.isolation() != null && !s.isolation().equals("FULL") && !s.isolation().equals("NONE")) {
      throw new IllegalArgumentException(
          "isolation '" + s.isolation() + "' is not valid: use FULL or NONE");
    }
    if (s.files() != null) {
      for (Messages.ScriptFileEntry f : s.files()) {
        if (f == null || f.base64() == null) {
          throw new IllegalArgumentException("'files' entries need a name and base64 content");
        }
        FileService.checkRelative(f.name());
      }
    }
    if (s.arguments() != null && s.arguments().contains(null)) {
      throw new IllegalArgumentException("'arguments' must not contain null");
    }
    if (s.sensitiveValues() != null && s.sensitiveValues().contains(null)) {
      throw new IllegalArgumentException("'sensitiveValues' must not contain null");
    }
    if (s.environment() != null) {
      for (Map.Entry<String, String> e : s.environment().entrySet()) {
        if (e.getKey() == null || e.getValue() == null || e.getKey().isEmpty()) {
          throw new IllegalArgumentException(
              "'environment' entry '" + e.getKey() + "' needs a non-empty name and a value");
        }
      }
    }
  }

  @Override
  public void close() {
    for (Run r : runs.values()) {
      r.cancel("CANCELLED", CANCELLED, "the agent shut down");
    }
    threads.shutdownNow();
    timer.shutdownNow();
    for (Run r : runs.values()) {
      r.closeLog();
    }
  }

  /** One script run: its log and state, guarded by its monitor. */
  private final class Run {
    final String ticket;
    final Path dir;
    final SensitiveMasker masker;
    final List<LogEntry> log = new ArrayList<>();
    State state;
    Process process;
    String pendingEnd; // outcome chosen by cancel/timeout before the process exited
    int pendingCode;
    String pendingMessage;
    BufferedWriter logWriter;
    Thread waiter; // the thread waiting for this run's isolation mutex, if any

    Run(String ticket, Path dir, SensitiveMasker masker, State state) {
      this.ticket = ticket;
      this.dir = dir;
      this.masker = masker;
      this.state = state;
    }

    synchronized boolean isComplete() {
      return "COMPLETE".equals(state.state());
    }

    void execute(StartScript s, boolean mayBlock) {
      Semaphore mutex =
          mutexes.computeIfAbsent(
              s.mutexName() == null ? "default" : s.mutexName(),
              n -> new Semaphore(MUTEX_PERMITS, true));
      int permits = "FULL".equals(s.isolation()) ? MUTEX_PERMITS : 1;
      boolean acquired = false;
      try {
        // Timed, even with no wait: the untimed tryAcquire barges past scripts already waiting.
        acquired = mutex.tryAcquire(permits, 0, TimeUnit.NANOSECONDS);
        if (!acquired && !mayBlock) {
          threads.execute(() -> execute(s, true));
          return;
        }
        if (!acquired) {
          append(
              "DEBUG",
              "Waiting for the '"
                  + s.mutexName()
                  + "' mutex ("
                  + ("FULL".equals(s.isolation()) ? "exclusive" : "shared")
                  + ") held by another script");
          long wait = s.mutexTimeoutMillis() <= 0 ? Long.MAX_VALUE : s.mutexTimeoutMillis();
          synchronized (this) {
            if (pendingEnd != null) {
              endLocked(pendingEnd, pendingCode, pendingMessage);
              return;
            }
            waiter = Thread.currentThread(); // cancel interrupts the wait
          }
          try {
            acquired = mutex.tryAcquire(permits, wait, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            synchronized (this) {
              waiter = null;
              if (pendingEnd != null) {
                Thread.interrupted();
                endLocked(pendingEnd, pendingCode, pendingMessage);
                return;
              }
            }
            throw e;
          } finally {
            synchronized (this) {
              waiter = null;
            }
          }
          if (!acquired) {
            end(
                "MUTEX_TIMEOUT",
                MUTEX_TIMEOUT,
                "waited " + s.mutexTimeoutMillis() + " ms for the '" + s.mutexName() + "' mutex");
            return;
          }
        }
        synchronized (this) {
          if (pendingEnd != null) {
            endLocked(pendingEnd, pendingCode, pendingMessage);
            return;
          }
        }
        try {
          spawn(s);
        } catch (RuntimeException e) {
          end("COULD_NOT_START", COULD_NOT_START, "the agent could not start it: " + e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        end("CANCELLED", CANCELLED, "the agent shut down before the script started");
      } finally {
        if (acquired) {
          Semaphore m = mutex;
          int p = permits;
          Runnable release = () -> m.release(p);
          Process proc;
          synchronized (this) {
            proc = process;
          }
          if (proc == null || isComplete()) {
            release.run();
          } else {
            whenComplete(release);
          }
        }
      }
    }

    private final List<Runnable> onComplete = new ArrayList<>();

    private void whenComplete(Runnable r) {
      synchronized (this) {
        if (!isComplete()) {
          onComplete.add(r);
          return;
        }
      }
      r.run();
    }

    private void spawn(StartScript s) {
      String[] interp = interpreter(s.syntax());
      Path work = dir.resolve("work");
      Path script = dir.resolve(interp[1]);
      try {
        OwnerOnly.write(script, s.body().getBytes(StandardCharsets.UTF_8));
        if (s.files() != null) {
          for (Messages.ScriptFileEntry f : s.files()) {
            Path target = FileService.confine(work, f.name());
            OwnerOnly.createDirectories(target.getParent());
            OwnerOnly.write(target, Base64.getDecoder().decode(f.base64()));
          }
        }
      } catch (IOException | IllegalArgumentException e) {
        end(
            "COULD_NOT_START",
            COULD_NOT_START,
            "cannot write the script or its files: " + e.getMessage());
        return;
      }
      List<String> cmd = new ArrayList<>();
      if (SETSID != null) {
        // Its own process group, so that cancel also reaches children that were re-parented.
        cmd.add(SETSID);
      }
      cmd.add(interp[0]);
      cmd.add(script.toAbsolutePath().toString());
      if (s.arguments() != null) {
        cmd.addAll(s.arguments());
      }
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile());
      if (s.environment() != null) {
        pb.environment().putAll(s.environment());
      }
      Process p;
      synchronized (this) {
        if (pendingEnd != null) {
          endLocked(pendingEnd, pendingCode, pendingMessage);
          return;
        }
        try {
          p = pb.start();
        } catch (IOException e) {
          endLocked(
              "COULD_NOT_START",
              COULD_NOT_START,
              "cannot start '"
                  + interp[0]
                  + "': "
                  + e.getMessage()
                  + " (is it installed and on PATH?)");
          return;
        }
        try {
          p.getOutputStream().close();
        } catch (IOException e) {
          // stdin is not used
        }
        process = p;
        // In memory only: on disk the run stays PENDING until it completes, which a restarted agent
        // reports as UNKNOWN_RESULT just the same (one atomic file write less per script).
        state = new State(ticket, "RUNNING", null, 0, "", state.startedMillis(), 0);
        notifyAll();
      }
      ScheduledFuture<?> timeout = null;
      if (s.timeoutMillis() > 0) {
        timeout =
            timer.schedule(
                () ->
                    cancel("TIMED_OUT", TIMED_OUT, "ran longer than " + s.timeoutMillis() + " ms"),
                s.timeoutMillis(),
                TimeUnit.MILLISECONDS);
      }
      // When the script exits, whatever it left running in its process group dies with it (as on
      // the built-in worker): a background child still holding stdout would otherwise keep the
      // step from completing until that child ends.
      p.onExit()
          .thenRun(
              () -> {
                try {
                  threads.execute(() -> killGroup(p.pid()));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                  killGroup(p.pid());
                }
              });
      LineReader lines = new LineReader(LineReader.DEFAULT_MAX_CHARS, s.sensitiveValues());
      CompletableFuture<Void> out = pump(lines, p.getInputStream(), "STDOUT");
      CompletableFuture<Void> err = pump(lines, p.getErrorStream(), "STDERR");
      ScheduledFuture<?> t = timeout;
      CompletableFuture.allOf(out, err, p.onExit())
          .whenComplete(
              (v, e) -> {
                if (t != null) {
                  t.cancel(false);
                }
                synchronized (this) {
                  if (pendingEnd != null) {
                    endLocked(pendingEnd, pendingCode, pendingMessage);
                  } else {
                    endLocked("EXITED", p.exitValue(), "");
                  }
                }
              });
    }

    private CompletableFuture<Void> pump(LineReader lines, InputStream in, String source) {
      return CompletableFuture.runAsync(
          () -> {
            // Bounded pieces, not readLine(): a script printing megabytes without a newline must
            // not make one huge log entry (nor one status reply over the frame limit).
            try (in) {
              lines.pump(in, line -> append(source, line));
            } catch (IOException e) {
              // the process was killed: its pipes closed
            }
          },
          threads);
    }

    void cancel(String outcome, int code, String message) {
      Process p;
      synchronized (this) {
        if (isComplete()) {
          return;
        }
        if (pendingEnd == null) {
          pendingEnd = outcome;
          pendingCode = code;
          pendingMessage = message;
        }
        p = process;
        if (waiter != null) {
          waiter.interrupt(); // waiting for its mutex: ends now, not when the mutex frees
        }
      }
      if (p != null) {
        killTree(p);
      }
    }

    synchronized void append(String source, String text) {
      if (isComplete()) {
        return;
      }
      LogEntry e =
          new LogEntry(log.size() + 1L, source, System.currentTimeMillis(), masker.mask(text));
      log.add(e);
      try {
        if (logWriter == null) {
          OwnerOnly.create(dir.resolve("log.jsonl"));
          logWriter =
              Files.newBufferedWriter(
                  dir.resolve("log.jsonl"),
                  StandardCharsets.UTF_8,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.APPEND);
        }
        logWriter.write(JSON.writeValueAsString(e));
        logWriter.write('\n');
        logWriter.flush();
      } catch (IOException ex) {
        LOG.warn("cannot append to the log of ticket {}: {}", ticket, ex.toString());
      }
      notifyAll();
    }

    private void end(String outcome, int code, String message) {
      synchronized (this) {
        endLocked(outcome, code, message);
      }
    }

    private void endLocked(String outcome, int code, String message) {
      if (isComplete()) {
        return;
      }
      if (!message.isEmpty() && !"EXITED".equals(outcome)) {
        append("DEBUG", message);
      }
      state =
          new State(
              ticket,
              "COMPLETE",
              outcome,
              code,
              message,
              state.startedMillis(),
              System.currentTimeMillis());
      persist();
      closeLog();
      notifyAll();
      List<Runnable> hooks = new ArrayList<>(onComplete);
      onComplete.clear();
      threads.execute(() -> hooks.forEach(Runnable::run));
    }

    private void persist() {
      try {
        writeState(dir, state);
      } catch (IOException e) {
        LOG.warn("cannot write the state of ticket {}: {}", ticket, e.toString());
      }
    }

    synchronized void closeLog() {
      if (logWriter != null) {
        try {
          logWriter.close();
        } catch (IOException e) {
          // nothing more to write
        }
        logWriter = null;
      }
    }

    synchronized ScriptStatus snapshot(long after) {
      int from = (int) Math.min(Math.max(after, 0), log.size());
      // Bound the reply (a backlog of many megabytes must not make a frame over the limit): count
      // each character as up to 6 JSON bytes (a control character becomes a six-character escape).
      // A reply cut
      // short reports RUNNING, so the host asks again from where it stopped.
      int to = from;
      long budget = 0;
      while (to < log.size()) {
        long cost = log.get(to).text().length() * 6L + 128;
        if (to > from && budget + cost > MAX_REPLY_LOG_BYTES) {
          break;
        }
        budget += cost;
        to++;
      }
      List<LogEntry> lines = List.copyOf(log.subList(from, to));
      boolean truncated = to < log.size();
      boolean done = isComplete() && !truncated;
      return new ScriptStatus(
          ticket,
          truncated && isComplete() ? "RUNNING" : state.state(),
          done ? state.outcome() : null,
          done ? state.exitCode() : 0,
          lines,
          to,
          truncated || state.message() == null ? "" : state.message());
    }

    synchronized ScriptStatus awaitStatus(long after, long waitForMillis)
        throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, waitForMillis));
      while (!isComplete() && log.size() <= after) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return snapshot(after);
    }

    synchronized boolean awaitComplete(long millis) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      while (!isComplete()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }

  private static final String SETSID = findOnPath("setsid");

  private static String findOnPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  /**
   * Kills the process group led by {@code pid} (a script started under {@code setsid}), if there is
   * one: its members may have been re-parented away from the script, even after it exited.
   */
  static void killGroup(long pid) {
    if (SETSID == null) {
      return;
    }
    try {
      Process k =
          new ProcessBuilder("kill", "-KILL", "--", "-" + pid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      k.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      LOG.warn("cannot kill process group {}: {}", pid, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Kills a process and all its descendants: its whole process group when it was started with
   * {@code setsid} (this reaches orphans re-parented away from it), and every descendant still
   * linked to it.
   */
  public static void killTree(Process p) {
    ProcessHandle h = p.toHandle();
    // Even when the script itself has exited: its process group may still hold its leftovers.
    killGroup(p.pid());
    for (int round = 0; round < 2; round++) {
      h.descendants().forEach(ProcessHandle::destroyForcibly);
    }
    p.destroyForcibly();
  }
}
