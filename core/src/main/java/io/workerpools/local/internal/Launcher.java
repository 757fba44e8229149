package io.workerpools.local.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent launcher ("zygote"): a few long-lived {@code bash} processes, used in turn, that
 * start scripts, so that a script costs a {@code fork} of a small shell instead of a JVM spawn plus
 * a {@code setsid} exec, and no thread of this JVM while it runs.
 *
 * <p>Protocol ({@code launcher.sh}, beside this class). Launch requests travel to the launcher's
 * stdin as NUL-separated fields (token, working directory, leftover-kill flag, argv, names to
 * unset, variables to export), read with {@code read -r -d ''}: they are data, never part of a
 * command line. For each request the launcher forks a <em>waiter</em> subshell, which opens three
 * loopback TCP connections to this JVM through bash's {@code /dev/tcp} (control, stdout, stderr,
 * each announced by the step's random 128-bit token), turns job control on and starts the script as
 * a background job, so that the script leads a new process group. The script reports its own pid
 * ({@code P}) before it execs; the waiter, after {@code wait}, SIGKILLs the script's group when
 * asked (leftover background jobs) and reports its exit status ({@code X}) on the control
 * connection, whose end without an {@code X} means the waiter died.
 *
 * <p>The script sees exactly the environment it is given: the launcher runs with a base
 * environment, and each script's differences from it (variables to unset, variables to export) are
 * applied in the forked child just before it {@code exec}s; the launcher's own variables are not
 * exported. Output of all scripts is read by one selector thread ({@link LaunchOutput}); launcher
 * events by one thread per launcher process.
 *
 * <p>Security: only this JVM writes launch requests (a pipe). The loopback port is reachable by
 * other local users, but a connection is bound to a step only by presenting that step's token,
 * which never leaves the launcher's private pipes; connections that present anything else, or
 * nothing in time, are closed ({@link Limits}). Output flows from the script into the JVM only.
 *
 * <p>If a launcher process dies, the next launch starts a new one. Scripts it had started keep
 * running under their waiters, which report over their own control connections. A script whose
 * waiter dies without reporting its exit is ended as lost ({@link ScriptEvents#onLost}); a request
 * the dead launcher never acted on ends as could-not-start. Nothing is started twice.
 */
public final class Launcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> SHELL_SPECIAL =
      Set.of(
          "SHELLOPTS",
          "EUID",
          "PPID",
          "UID",
          "RANDOM",
          "SRANDOM",
          "SECONDS",
          "LINENO",
          "HISTCMD",
          "FUNCNAME",
          "GROUPS",
          "DIRSTACK",
          "EPOCHREALTIME",
          "EPOCHSECONDS",
          "PIPESTATUS",
          "POSIXLY_CORRECT",
          "ENV");

  /**
   * The launcher's program ({@code launcher.sh}); {@code $1} is the loopback port. Null if the
   * resource is missing (a repackaged jar): the launcher then cannot start, and scripts are started
   * one process each.
   */
  static final String SCRIPT = readScript();

  /**
   * Bounds on the loopback connections that have not presented a token yet: any local user can open
   * them, so each is closed when {@code tokenDeadline} has passed since it was accepted, and the
   * oldest are closed once there are more than {@code spareConnections} plus three per known launch
   * (what the launched scripts themselves may have open but not yet announced).
   */
  public record Limits(Duration tokenDeadline, int spareConnections) {
    /** 10 s to present a token; 64 spare connections. */
    public static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), 64);

    public Limits {
      if (tokenDeadline == null || tokenDeadline.isNegative() || tokenDeadline.isZero()) {
        throw new IllegalArgumentException(
            "tokenDeadline must be positive but was " + tokenDeadline);
      }
      if (spareConnections < 1) {
        throw new IllegalArgumentException(
            "spareConnections must be at least 1 but was " + spareConnections);
      }
    }
  }

  private final Path bash;
  private final Map<String, String> environment;
  private final SecureRandom random = new SecureRandom();
  private final LaunchOutput output;
  private final Object lock = new Object();

  /**
   * The launcher processes, used in turn: one shell reads and forks requests one after another, so
   * under a burst a few of them (one per CPU, up to 4) keep up where one would queue requests.
   */
  private final Generation[] slots; // guarded by lock

  private final Object[] slotLocks;
  private int next; // guarded by lock
  private volatile boolean closed;
  private volatile boolean broken;

  private Launcher(Path bash, Map<String, String> environment, int processes, Limits limits)
      throws IOException {
    this.slots = new Generation[processes];
    this.slotLocks = new Object[processes];
    for (int i = 0; i < processes; i++) {
      slotLocks[i] = new Object();
    }
    this.bash = bash;
    this.environment = Map.copyOf(environment);
    this.output = new LaunchOutput(limits);
  }

  private static String readScript() {
    try (InputStream in = Launcher.class.getResourceAsStream("launcher.sh")) {
      return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Why scripts cannot go through a launcher started with this base environment, or null if they
   * can: variables that would change how the launcher's own shell behaves (exported functions,
   * {@code BASH_ENV}, {@code SHELLOPTS}...).
   */
  public static String unsupportedEnvironment(Map<String, String> environment) {
    for (String name : environment.keySet()) {
      if (name.startsWith("BASH_FUNC_")
          || name.equals("BASH_ENV")
          || name.equals("BASHOPTS")
          || SHELL_SPECIAL.contains(name)
          || name.startsWith("__wp_")) {
        return "the host's environment has " + name + ", which would change the launcher shell";
      }
    }
    return null;
  }

  /**
   * Whether this can be launched here (otherwise the caller spawns it): variable names a shell can
   * export and does not treat specially, and no NUL characters.
   */
  public boolean canLaunch(StartSpec spec) {
    for (String a : spec.argv()) {
      if (a.indexOf('\0') >= 0) {
        return false;
      }
    }
    for (Map.Entry<String, String> e : spec.environment().entrySet()) {
      String n = e.getKey();
      if (e.getValue().equals(environment.get(n))) {
        continue; // the launcher has it already
      }
      if (!NAME.matcher(n).matches()
          || n.startsWith("BASH")
          || n.startsWith("COMP_")
          || n.startsWith("__wp_")
          || SHELL_SPECIAL.contains(n)
          || e.getValue().indexOf('\0') >= 0) {
        return false;
      }
    }
    return spec.directory().toString().indexOf('\0') < 0;
  }

  /** As {@link #start(Path, Map, Limits)} with {@link Limits#DEFAULT}. */
  public static Launcher start(Path bash, Map<String, String> environment) throws IOException {
    return start(bash, environment, Limits.DEFAULT);
  }

  /**
   * Starts a launcher: a {@code bash} process with this base environment, checked to answer through
   * its loopback connection within a few seconds; more start on first use, one per CPU up to 4.
   *
   * @throws IOException if it cannot start or does not answer (for example a {@code bash} built
   *     without network redirections)
   */
  public static Launcher start(Path bash, Map<String, String> environment, Limits limits)
      throws IOException {
    int processes = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    Launcher l = new Launcher(bash, environment, processes, limits);
    try {
      synchronized (l.lock) {
        l.slots[0] = l.newGeneration(); // the others start on first use
      }
      return l;
    } catch (IOException | RuntimeException e) {
      l.close();
      throw e;
    }
  }

  /**
   * Launches {@code spec} (checked with {@link #canLaunch} first). Returns once the request is
   * handed to a launcher process; everything else is reported to {@code events}.
   *
   * @throws IOException if no launcher process can take the request (nothing was started)
   */
  public void launch(StartSpec spec, ScriptEvents events) throws IOException {
    String token = HexFormat.of().formatHex(nextToken());
    byte[] request = encode(token, spec);
    int slot;
    synchronized (lock) {
      slot = next;
      next = (next + 1) % slots.length;
    }
    synchronized (slotLocks[slot]) { // a full pipe blocks this slot's callers only
      Generation g;
      synchronized (lock) {
        if (closed || broken) {
          throw new IOException("the launcher is " + (closed ? "closed" : "not working"));
        }
        g = slots[slot];
        if (g == null || !g.process.isAlive()) {
          if (g != null) {
            LOG.warn(
                "the local launcher process {} exited with {}; starting a new one",
                g.process.pid(),
                g.process.exitValue());
          }
          slots[slot] = null;
          try {
            g = newGeneration();
          } catch (IOException e) {
            broken = true;
            throw e;
          }
          slots[slot] = g;
        }
      }
      Generation gen = g;
      Launch l = new Launch(token, events, () -> forget(gen, token));
      output.byToken.put(token, l);
      g.launches.put(token, l);
      try {
        g.in.write(request);
        g.in.flush();
      } catch (IOException e) {
        forget(g, token);
        throw e;
      }
    }
  }

  private void forget(Generation g, String token) {
    output.byToken.remove(token);
    g.launches.remove(token);
  }

  private byte[] nextToken() {
    byte[] b = new byte[LaunchOutput.TOKEN_HEX / 2];
    random.nextBytes(b);
    return b;
  }

  private byte[] encode(String token, StartSpec spec) {
    StringBuilder s = new StringBuilder(256);
    s.append(token).append('\0');
    s.append(spec.directory().toString()).append('\0');
    s.append(spec.killLeftovers() ? '1' : '0').append('\0');
    s.append(spec.argv().size()).append('\0');
    for (String a : spec.argv()) {
      s.append(a).append('\0');
    }
    List<String> unset = new ArrayList<>();
    for (String n : environment.keySet()) {
      if (!spec.environment().containsKey(n)) {
        unset.add(n);
      }
    }
    s.append(unset.size()).append('\0');
    for (String n : unset) {
      s.append(n).append('\0');
    }
    List<Map.Entry<String, String>> export = new ArrayList<>();
    for (Map.Entry<String, String> e : spec.environment().entrySet()) {
      if (!e.getValue().equals(environment.get(e.getKey()))) {
        export.add(e);
      }
    }
    s.append(export.size()).append('\0');
    for (Map.Entry<String, String> e : export) {
      s.append(e.getKey()).append('=').append(e.getValue()).append('\0');
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  private Generation newGeneration() throws IOException {
    if (SCRIPT == null) {
      // Thrown from a static initializer this would have reached the host as an Error (#13).
      throw new IOException("launcher.sh is missing or unreadable beside " + Launcher.class);
    }
    ProcessBuilder pb =
        new ProcessBuilder(
                bash.toString(),
                "--norc",
                "--noprofile",
                "-c",
                SCRIPT,
                "workerpools-launcher",
                Integer.toString(output.port()))
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().clear();
    pb.environment().putAll(environment);
    Process p = pb.start();
    Generation g = new Generation(p);
    String hello = HexFormat.of().formatHex(nextToken());
    output.byToken.put(hello, new Launch(hello, null, () -> {}));
    try {
      g.in.write((hello + "\0").getBytes(StandardCharsets.US_ASCII));
      g.in.flush();
      Thread events = new Thread(g::readEvents, "workerpools-local-launcher-events");
      events.setDaemon(true);
      events.start();
      if (!g.ready.await(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("the launcher did not answer within 10 s");
      }
      if (!g.readySeen) {
        p.destroyForcibly();
        throw new IOException(
            "the launcher ended at start without answering (exit status "
                + p.waitFor()
                + "; a bash built without /dev/tcp support exits with 3)");
      }
      return g;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while starting the launcher", e);
    } finally {
      output.byToken.remove(hello);
    }
  }

  /** Whether launches can be attempted: not closed, and no restart of the launcher has failed. */
  public boolean usable() {
    return !closed && !broken;
  }

  /** The loopback port the launched scripts connect back to. */
  public int port() {
    return output.port();
  }

  /** The pids of the launcher processes running now. For tests. */
  public List<Long> pids() {
    synchronized (lock) {
      List<Long> pids = new ArrayList<>();
      for (Generation g : slots) {
        if (g != null && g.process.isAlive()) {
          pids.add(g.process.pid());
        }
      }
      return pids;
    }
  }

  /**
   * Stops the launcher processes. Scripts already started keep running and are still reported until
   * they end; the output thread stops once none is left.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      for (Generation g : slots) {
        if (g == null) {
          continue;
        }
        try {
          g.in.close(); // a launcher ends at the end of its input
        } catch (IOException e) {
          g.process.destroyForcibly();
        }
      }
    }
    output.close();
  }

  /** One launcher process and its event pipe. */
  private final class Generation {
    final Process process;
    final OutputStream in;
    final CountDownLatch ready = new CountDownLatch(1);
    volatile boolean readySeen;
    final Map<String, Launch> launches = new ConcurrentHashMap<>();

    Generation(Process process) {
      this.process = process;
      this.in = process.getOutputStream();
    }

    void readEvents() {
      try (BufferedReader r =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.equals("R")) {
            readySeen = true;
            ready.countDown();
          } else if (line.startsWith("F ")) {
            Launch l = launches.get(line.substring(2));
            if (l != null) {
              l.couldNotStart("the launcher could not connect the script's output to the host");
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("reading the launcher's events failed", e);
      } finally {
        ready.countDown();
        // The launcher and every waiter that had not yet connected back have exited (they held
        // this pipe): the output thread settles this generation's launches that never connected.
        output.generationEnded(launches::values);
      }
    }
  }
}
