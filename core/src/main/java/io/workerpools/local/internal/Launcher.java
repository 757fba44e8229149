package io.workerpools.local.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent launcher ("zygote"): a few long-lived {@code bash} processes, used in turn, that
 * start scripts for the local-process transport, so that a script costs a {@code fork} of a small
 * shell instead of a JVM spawn plus a {@code setsid} exec.
 *
 * <p>Protocol. Launch requests travel to the launcher's stdin as NUL-separated fields (token,
 * working directory, leftover-kill flag, argv, environment), read with {@code read -r -d ''}: they
 * are data, never part of a command line. For each request the launcher forks a <em>waiter</em>
 * subshell, which opens three loopback TCP connections to this JVM through bash's {@code /dev/tcp}
 * (control, stdout, stderr, each announced by the step's random 128-bit token), turns job control
 * on and starts the script as a background job, so that the script leads a new process group. The
 * script reports its own pid ({@code P}, before it execs, so that it is known even if the waiter
 * dies at once) and, after {@code wait}, its exit status ({@code X}) on a third connection, its
 * control connection, whose end without an {@code X} means the waiter died; before reporting the
 * exit it SIGKILLs the script's group when asked (leftover background jobs).
 *
 * <p>The script sees exactly the environment the classic path gives it: the launcher runs with the
 * host's base environment (or only {@code PATH}), and each script's own variables are exported in
 * the forked child just before it {@code exec}s the interpreter; the launcher's own variables are
 * not exported. Output of all scripts is read by one selector thread; launcher events by one thread
 * per launcher process.
 *
 * <p>Security: only this JVM writes launch requests (a pipe). The loopback port is reachable by
 * other local users, but a connection is bound to a step only by presenting that step's token,
 * which never leaves the launcher's private pipes; connections that present anything else are
 * closed. Output flows from the script into the JVM only.
 *
 * <p>If the launcher dies, the next launch starts a new one. Scripts it had started keep running
 * under their waiters, which report over their own control connections, so their ends are still
 * known. A script whose waiter dies without reporting its exit is ended as lost ({@link
 * Listener#onLost}); a request the dead launcher never acted on (its waiter never connected back)
 * ends as could-not-start. Nothing is started twice.
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
  private static final int TOKEN_BYTES = 16;
  private static final int TOKEN_LINE = TOKEN_BYTES * 2 + 2; // hex, stream digit, newline

  /**
   * The launcher's program. {@code $1} is the loopback port. Its own variables start with {@code
   * __wp_} (refused as script variable names) and are never exported.
   */
  static final String SCRIPT =
      "__wp_p=$1 __wp_o=${OLDPWD-} __wp_os=${OLDPWD+1}\n"
          + "IFS= read -r -d '' __wp_t || exit 0\n"
          + "exec 4<>\"/dev/tcp/127.0.0.1/$__wp_p\" || exit 3\n"
          + "printf '%s9\\n' \"$__wp_t\" >&4\n"
          + "exec 4>&-\n"
          + "printf 'R\\n'\n"
          + "while IFS= read -r -d '' __wp_t; do\n"
          + "  IFS= read -r -d '' __wp_d\n"
          + "  IFS= read -r -d '' __wp_k\n"
          + "  IFS= read -r -d '' __wp_n\n"
          + "  __wp_a=()\n"
          + "  while ((__wp_n-- > 0)); do IFS= read -r -d '' __wp_x; __wp_a+=(\"$__wp_x\"); done\n"
          + "  IFS= read -r -d '' __wp_n\n"
          + "  __wp_e=()\n"
          + "  while ((__wp_n-- > 0)); do IFS= read -r -d '' __wp_x; __wp_e+=(\"$__wp_x\"); done\n"
          + "  (\n"
          + "    exec 0</dev/null 2>/dev/null\n"
          + "    exec 3<>\"/dev/tcp/127.0.0.1/$__wp_p\" 4<>\"/dev/tcp/127.0.0.1/$__wp_p\""
          + " 5<>\"/dev/tcp/127.0.0.1/$__wp_p\" || { printf 'F %s\\n' \"$__wp_t\"; exit 1; }\n"
          + "    exec 1>&-\n"
          + "    printf '%s0\\n' \"$__wp_t\" >&3\n"
          + "    printf '%s1\\n' \"$__wp_t\" >&4\n"
          + "    printf '%s2\\n' \"$__wp_t\" >&5\n"
          + "    cd -- \"$__wp_d\" || { printf 'F cd\\n' >&3; exit 1; }\n"
          + "    set -m\n"
          + "    { printf 'P %s\\n' \"$BASHPID\" >&3;"
          + " if [[ $__wp_os ]]; then OLDPWD=$__wp_o; else unset OLDPWD; fi;"
          + " ((${#__wp_e[@]})) && export -- \"${__wp_e[@]}\";"
          + " exec -- \"${__wp_a[@]}\" </dev/null >&4 2>&5 3>&- 4>&- 5>&-; } &\n"
          + "    __wp_c=$!\n"
          + "    exec 4>&- 5>&-\n"
          + "    wait \"$__wp_c\"; __wp_r=$?\n"
          + "    ((__wp_k)) && kill -KILL -- \"-$__wp_c\"\n"
          + "    printf 'X %s\\n' \"$__wp_r\" >&3\n"
          + "  ) &\n"
          + "done\n";

  /** What a launched script reports. Called on the launcher's threads: be quick, never block. */
  public interface Listener {
    /** The script runs as process {@code pid}, which leads its own process group. */
    void onStarted(long pid);

    /** Bytes of stdout ({@code stdout} true) or stderr, in order within each stream. */
    void onOutput(boolean stdout, byte[] bytes, int offset, int length);

    /** One output stream reached its end. Called once per stream. */
    void onStreamEnd(boolean stdout);

    /** The script exited with this status (128 + signal if a signal ended it). */
    void onExit(int status);

    /** The script could not be started; nothing ran. */
    void onCouldNotStart(String why);

    /**
     * The launcher lost track of the script (its waiter died): its end is unknown. {@code pid} is
     * the script's process group if it had started (the caller should kill it), else -1.
     */
    void onLost(String why, long pid);
  }

  private final Path bash;
  private final Map<String, String> environment;
  private final SecureRandom random = new SecureRandom();
  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread selectorThread;
  private final Map<String, Launch> byToken = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Generation> endedGenerations = new ConcurrentLinkedQueue<>();
  private final Object lock = new Object();

  /**
   * The launcher processes, used in turn: one shell reads and forks requests one after another, so
   * under a burst a few of them (one per CPU, up to 4) keep up where one would queue requests.
   */
  private final Generation[] slots; // guarded by lock

  private final Object[] slotLocks;
  private int next; // guarded by lock
  private final long tokenDeadlineNanos;
  private final int spareConnections;

  /** Accepted connections that have not said whose they are yet, oldest first (selector thread). */
  private final java.util.ArrayDeque<SelectionKey> unidentified = new java.util.ArrayDeque<>();

  private int strangers; // selector thread: connections in unidentified that are still unknown
  private volatile boolean closed;
  private volatile boolean broken;

  private Launcher(Path bash, Map<String, String> environment, int processes, Limits limits)
      throws IOException {
    this.tokenDeadlineNanos = limits.tokenDeadline().toNanos();
    this.spareConnections = limits.spareConnections();
    this.slots = new Generation[processes];
    this.slotLocks = new Object[processes];
    for (int i = 0; i < processes; i++) {
      slotLocks[i] = new Object();
    }
    this.bash = bash;
    this.environment = Map.copyOf(environment);
    this.server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    server.configureBlocking(false);
    this.selector = Selector.open();
    server.register(selector, SelectionKey.OP_ACCEPT);
    this.selectorThread = new Thread(this::selectLoop, "workerpools-local-output");
    selectorThread.setDaemon(true);
    selectorThread.start();
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
   * Whether a script with these arguments and variables can be launched here (otherwise the caller
   * uses a plain process): variable names a shell can export and does not treat specially, and no
   * NUL characters.
   */
  public static boolean canLaunch(List<String> argv, Map<String, String> env) {
    for (String a : argv) {
      if (a.indexOf('\0') >= 0) {
        return false;
      }
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      String n = e.getKey();
      if (!NAME.matcher(n).matches()
          || n.startsWith("BASH")
          || n.startsWith("COMP_")
          || n.startsWith("__wp_")
          || SHELL_SPECIAL.contains(n)
          || e.getValue().indexOf('\0') >= 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Starts a launcher: a {@code bash} process with this base environment, checked to answer through
   * its loopback connection within a few seconds.
   *
   * @throws IOException if it cannot start or does not answer (for example a {@code bash} built
   *     without network redirections)
   */
  public static Launcher start(Path bash, Map<String, String> environment) throws IOException {
    return start(bash, environment, Limits.DEFAULT);
  }

  /** As {@link #start(Path, Map)}, with these limits on connections that present no token. */
  public static Launcher start(Path bash, Map<String, String> environment, Limits limits)
      throws IOException {
    return start(
        bash,
        environment,
        Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
        limits);
  }

  /** As {@link #start(Path, Map)}, with this many launcher processes used in turn (1 to 16). */
  public static Launcher start(
      Path bash, Map<String, String> environment, int processes, Limits limits) throws IOException {
    if (processes < 1 || processes > 16) {
      throw new IllegalArgumentException("processes must be 1 to 16 but was " + processes);
    }
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
   * Launches {@code argv} (an absolute interpreter path first) in {@code dir} with the variables
   * {@code env} added to the launcher's base environment. Returns once the request is handed to the
   * launcher; everything else is reported to {@code listener}.
   *
   * @throws IOException if no launcher can take the request (nothing was started)
   */
  public void launch(
      Path dir,
      List<String> argv,
      Map<String, String> env,
      boolean killLeftovers,
      Listener listener)
      throws IOException {
    String token = HexFormat.of().formatHex(nextToken());
    byte[] request = encode(token, dir, killLeftovers, argv, env);
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
      Launch l = new Launch(token, g, listener);
      byToken.put(token, l);
      g.launches.put(token, l);
      try {
        g.in.write(request);
        g.in.flush();
      } catch (IOException e) {
        byToken.remove(token);
        g.launches.remove(token);
        throw e;
      }
    }
  }

  private byte[] nextToken() {
    byte[] b = new byte[TOKEN_BYTES];
    random.nextBytes(b);
    return b;
  }

  private static byte[] encode(
      String token, Path dir, boolean kill, List<String> argv, Map<String, String> env) {
    StringBuilder s = new StringBuilder(256);
    s.append(token).append('\0');
    s.append(dir.toString()).append('\0');
    s.append(kill ? '1' : '0').append('\0');
    s.append(argv.size()).append('\0');
    for (String a : argv) {
      s.append(a).append('\0');
    }
    s.append(env.size()).append('\0');
    for (Map.Entry<String, String> e : env.entrySet()) {
      s.append(e.getKey()).append('=').append(e.getValue()).append('\0');
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  private Generation newGeneration() throws IOException {
    int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    ProcessBuilder pb =
        new ProcessBuilder(
                bash.toString(),
                "--norc",
                "--noprofile",
                "-c",
                SCRIPT,
                "workerpools-launcher",
                Integer.toString(port))
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().clear();
    pb.environment().putAll(environment);
    Process p = pb.start();
    Generation g = new Generation(p);
    String hello = HexFormat.of().formatHex(nextToken());
    Launch probe = new Launch(hello, g, null);
    byToken.put(hello, probe);
    try {
      g.in.write((hello + "\0").getBytes(StandardCharsets.US_ASCII));
      g.in.flush();
      Thread events = new Thread(() -> g.readEvents(), "workerpools-local-launcher-events");
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
      byToken.remove(hello);
    }
  }

  /**
   * Bounds on the loopback connections that have not presented a token yet: any local user can open
   * them, so each is closed when {@code tokenDeadline} has passed since it was accepted, and the
   * oldest are closed once there are more than {@code spareConnections} plus three per known launch
   * (what the launched scripts themselves may have open but not yet announced).
   */
  public record Limits(java.time.Duration tokenDeadline, int spareConnections) {
    /** 10 s to present a token; 64 spare connections. */
    public static final Limits DEFAULT = new Limits(java.time.Duration.ofSeconds(10), 64);

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

  /** The loopback port the launched scripts connect back to. */
  public int port() {
    try {
      return ((InetSocketAddress) server.getLocalAddress()).getPort();
    } catch (IOException e) {
      return -1;
    }
  }

  /** Whether launches can be attempted: not closed, and no restart of the launcher has failed. */
  public boolean usable() {
    return !closed && !broken;
  }

  /** The pids of the launcher processes running now. For tests. */
  public List<Long> pids() {
    synchronized (lock) {
      List<Long> pids = new java.util.ArrayList<>();
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
    selector.wakeup();
  }

  // ---- one launcher process and its event pipe ----

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
        // this pipe): the selector thread settles this generation's launches that never connected.
        endedGenerations.add(this);
        selector.wakeup();
      }
    }
  }

  // ---- one launched script ----

  private final class Launch {
    final String token;
    final Generation generation;
    final Listener listener;
    private final StringBuilder control = new StringBuilder();
    private boolean ended; // guarded by this
    private boolean connected; // guarded by this
    private boolean exitSeen; // guarded by this
    private long pid = -1; // guarded by this
    private int openStreams = 3; // guarded by this: control, stdout, stderr

    Launch(String token, Generation generation, Listener listener) {
      this.token = token;
      this.generation = generation;
      this.listener = listener;
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
            listener.onStarted(p);
          } else if (line.startsWith("X ")) {
            int status = Integer.parseInt(line.substring(2));
            synchronized (this) {
              exitSeen = true;
            }
            listener.onExit(status);
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
          forget();
        }
      }
      listener.onCouldNotStart(why);
    }

    void streamEnded(int stream) {
      boolean call;
      boolean lostNow = false;
      synchronized (this) {
        openStreams--;
        call = !ended && stream != 0;
        if (stream == 0 && !exitSeen && !ended) {
          ended = true; // the waiter is gone without reporting the exit
          lostNow = true;
        }
        if (openStreams <= 0) {
          forget();
        }
      }
      if (call) {
        listener.onStreamEnd(stream == 1);
      }
      if (lostNow) {
        long p;
        synchronized (this) {
          p = pid;
        }
        listener.onLost(
            p > 0
                ? "the launcher's waiter for this script (pid "
                    + p
                    + ") ended without reporting its exit"
                : "the launcher's waiter ended before it started this script",
            p);
      }
    }

    /** The generation ended and this launch never connected back: it never started. */
    void neverConnected() {
      synchronized (this) {
        if (ended || connected) {
          return;
        }
        ended = true;
        forget();
      }
      if (listener != null) {
        listener.onCouldNotStart("the launcher process ended before it started this script");
      }
    }

    private void forget() {
      byToken.remove(token);
      generation.launches.remove(token);
    }
  }

  // ---- output: one selector thread for every script's stdout and stderr ----

  private static final class Conn {
    final ByteBuffer head = ByteBuffer.allocate(TOKEN_LINE);
    final long acceptedAt = System.nanoTime();
    boolean stranger = true; // counted in strangers until it presents a token or is closed
    Launch launch;
    int stream; // 0 control, 1 stdout, 2 stderr
  }

  private void selectLoop() {
    ByteBuffer buf = ByteBuffer.allocate(16384);
    try {
      while (!(closed && byToken.isEmpty())) {
        selector.select(200);
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey k = it.next();
          it.remove();
          if (!k.isValid()) {
            continue;
          }
          if (k.isAcceptable()) {
            acceptAll();
          } else if (k.isReadable()) {
            try {
              read(k, buf);
            } catch (RuntimeException e) {
              // A listener threw (a host callback run when a result completed): keep serving the
              // other scripts.
              LOG.warn("handling a launched script's output failed", e);
            }
          }
        }
        settleEndedGenerations();
        dropStrangers();
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("the local launcher's output loop failed; running scripts will be lost", e);
    } finally {
      for (SelectionKey k : selector.keys()) {
        closeQuietly(k);
      }
      try {
        selector.close();
        server.close();
      } catch (IOException e) {
        LOG.debug("closing the launcher's socket failed", e);
      }
    }
  }

  private long lastAcceptWarning;

  private void acceptAll() {
    try {
      SocketChannel c;
      while ((c = server.accept()) != null) {
        c.configureBlocking(false);
        unidentified.addLast(c.register(selector, SelectionKey.OP_READ, new Conn()));
        strangers++;
      }
    } catch (IOException e) {
      // Out of file descriptors, typically: the connection waits in the backlog; try again.
      long now = System.nanoTime();
      if (now - lastAcceptWarning > TimeUnit.SECONDS.toNanos(1)) {
        lastAcceptWarning = now;
        LOG.warn("accepting a launched script's output connection failed: {}", e.toString());
      }
    }
  }

  /**
   * For launchers whose event pipe has ended: their launches that never connected back never
   * started. Waits (up to 5 s) while connections that have not yet said whose they are remain, as
   * one of them may be such a launch's, accepted but not yet read.
   */
  private void settleEndedGenerations() throws IOException {
    if (endedGenerations.isEmpty()) {
      return;
    }
    acceptAll();
    long now = System.nanoTime();
    for (SelectionKey k : selector.keys()) {
      if (k.attachment() instanceof Conn conn
          && conn.launch == null
          && now - conn.acceptedAt < TimeUnit.SECONDS.toNanos(5)) {
        return; // settle after it has been read
      }
    }
    Generation g;
    while ((g = endedGenerations.poll()) != null) {
      for (Launch l : List.copyOf(g.launches.values())) {
        if (!l.isConnected()) {
          l.neverConnected();
        }
      }
    }
  }

  /**
   * Closes connections that have not said whose they are by their deadline, and the oldest of them
   * while there are more than the limit allows: another local user cannot hold this host's file
   * descriptors by connecting and saying nothing.
   */
  private void dropStrangers() {
    long now = System.nanoTime();
    int cap = spareConnections + 3 * byToken.size();
    int dropped = 0;
    while (!unidentified.isEmpty()) {
      SelectionKey k = unidentified.peekFirst();
      Conn conn = (Conn) k.attachment();
      if (!conn.stranger) {
        unidentified.pollFirst(); // identified, or closed already
      } else if (now - conn.acceptedAt > tokenDeadlineNanos || strangers > cap) {
        unidentified.pollFirst();
        known(conn);
        closeQuietly(k);
        dropped++;
      } else {
        break; // the rest are younger
      }
    }
    if (dropped > 0) {
      long t = System.nanoTime();
      if (t - lastDropWarning > TimeUnit.SECONDS.toNanos(10)) {
        lastDropWarning = t;
        LOG.warn(
            "closed {} loopback connection(s) to the local launcher that presented no step token"
                + " in time, or too many at once (another local process connecting to port {}?)",
            dropped,
            port());
      }
    }
  }

  private long lastDropWarning;

  private void known(Conn conn) {
    if (conn.stranger) {
      conn.stranger = false;
      strangers--;
    }
  }

  private void read(SelectionKey k, ByteBuffer buf) {
    SocketChannel c = (SocketChannel) k.channel();
    Conn conn = (Conn) k.attachment();
    int n;
    try {
      buf.clear();
      n = c.read(buf);
    } catch (IOException e) {
      n = -1;
    }
    if (n < 0) {
      known(conn);
      closeQuietly(k);
      if (conn.launch != null) {
        conn.launch.streamEnded(conn.stream);
      }
      return;
    }
    buf.flip();
    if (conn.launch == null) {
      while (buf.hasRemaining() && conn.head.hasRemaining()) {
        conn.head.put(buf.get());
      }
      if (conn.head.hasRemaining()) {
        return;
      }
      String head = new String(conn.head.array(), StandardCharsets.US_ASCII);
      Launch l = head.endsWith("\n") ? byToken.get(head.substring(0, TOKEN_BYTES * 2)) : null;
      int stream = head.charAt(TOKEN_BYTES * 2) - '0';
      known(conn);
      if (l == null || stream < 0 || stream > 2 || l.listener == null) {
        closeQuietly(k); // not one of ours (or the launcher's start-up probe)
        return;
      }
      conn.launch = l;
      conn.stream = stream;
      if (stream == 0) {
        l.connected();
      }
    }
    if (buf.hasRemaining()) {
      int off = buf.arrayOffset() + buf.position();
      if (conn.stream == 0) {
        conn.launch.control(buf.array(), off, buf.remaining());
      } else {
        conn.launch.listener.onOutput(conn.stream == 1, buf.array(), off, buf.remaining());
      }
    }
  }

  private static void closeQuietly(SelectionKey k) {
    k.cancel();
    try {
      k.channel().close();
    } catch (IOException e) {
      // closing a socket we are done with
    }
  }
}
