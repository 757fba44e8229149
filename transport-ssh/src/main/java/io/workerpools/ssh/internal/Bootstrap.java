package io.workerpools.ssh.internal;

import io.workerpools.transport.ScriptRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The two fixed remote commands and the data format they read on stdin.
 *
 * <p>Nothing from a request is ever placed on a remote command line: the commands below are
 * constants. Everything else (arguments, environment, files, the script) travels on the channel's
 * stdin as NUL-terminated fields, which bash reads verbatim with {@code IFS= read -r -d ''}; the
 * script body follows the fields and runs to the end of the stream. A NUL cannot occur in an
 * argument or an environment value on POSIX, so NUL framing is lossless for every value bash could
 * receive anyway; file contents are base64-encoded.
 *
 * <p>OpenSSH starts every exec channel's command with {@code setsid()}, so the bootstrap already
 * leads its own process group (it checks this in {@code /proc} and re-executes itself under {@code
 * setsid} where that is not so). Its first stderr line is a marker with the step's token and its
 * pid, which is the group's id (see {@link #pgidFromMarker}); the transport strips that line and
 * kills the group from another channel with {@link #KILL_COMMAND} on cancel or timeout. A marker on
 * stdout too lets the transport tell what the login shell's startup files printed (not the step's
 * output) from the script's output. Every bash the bootstrap starts runs with {@code --norc}: bash
 * started by sshd reads {@code ~/.bashrc} even when not interactive, which the login shell has done
 * already (its exported variables are inherited); doing it again per nested bash cost ~0.7 s a step
 * on a machine whose {@code .bashrc} runs {@code pyenv init}.
 *
 * <p>Two ways to run, chosen per step by {@link #lean}:
 *
 * <ul>
 *   <li><b>lean</b> (no files, small body, working directory not kept): the body is read into a
 *       variable with bash builtins and run by the bootstrap itself ({@code eval}, after it has set
 *       the arguments and cleared its own variables and functions): one remote process, no {@code
 *       mkdir}, {@code cat} or {@code rm}. The script runs in the login user's home directory.
 *   <li><b>directory</b>: a private {@code mkdir -m 700} directory {@code
 *       $TMPDIR/workerpools-<token>} receives the files and the script, which is sourced there by a
 *       subshell of the bootstrap that has set the arguments; the directory is removed afterwards
 *       (also on cancel) unless it is kept.
 * </ul>
 *
 * <p>On both paths no process's command line holds any part of the script, its arguments or its
 * environment ({@code ps} shows them to every user of the worker): the only command lines are the
 * constants below and whatever the script itself runs.
 */
public final class Bootstrap {
  private Bootstrap() {}

  /** The protocol version the bootstrap checks. */
  static final String VERSION = "2";

  /** Exit code of the bootstrap when its input is malformed or the temp dir cannot be made. */
  public static final int SETUP_FAILED = 120;

  /** The largest body run on the lean path; larger ones go through a file (argv limits). */
  public static final int LEAN_MAX_BODY = 64 * 1024;

  private static final String MARKER_PREFIX = "workerpools:";
  private static final String MARKER_SUFFIX = ":pgid=";
  private static final String OUT_SUFFIX = ":out";

  private static final String RUN_SCRIPT =
      String.join(
          "\n",
          "shopt -s execfail",
          "if [ -z \"$_wp_s\" ]; then _wp_g=(); read -r -a _wp_g 2>/dev/null < /proc/$$/stat;"
              + " [ \"${_wp_g[4]}\" = \"$$\" ] ||"
              + " _wp_s=1 exec setsid \"$BASH\" --norc -c \"$BASH_EXECUTION_STRING\"; fi",
          "unset _wp_s _wp_g",
          "r() { IFS= read -r -d \"\" \"$1\"; }",
          "fail() { echo \"workerpools: $1\" >&2; exit " + SETUP_FAILED + "; }",
          "r v || fail \"no input\"; [ \"$v\" = "
              + VERSION
              + " ] || fail \"unsupported protocol $v\"",
          "r t; [[ $t =~ ^[0-9a-f]{32}$ ]] || fail \"bad token\"",
          "printf \"" + MARKER_PREFIX + "%s" + OUT_SUFFIX + "\\n\" \"$t\"",
          "printf \"" + MARKER_PREFIX + "%s" + MARKER_SUFFIX + "%s\\n\" \"$t\" \"$$\" >&2",
          "r m; r n; a=()",
          "for ((i=0; i<n; i++)); do r x || fail \"truncated arguments\"; a+=(\"$x\"); done",
          "r n; e=()",
          "for ((i=0; i<n; i++)); do r k; r x || fail \"truncated environment\";"
              + " [[ $k =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || fail \"bad variable name\"; e+=(\"$k=$x\"); done",
          // Lean: the body runs in this very process (eval), so neither it nor the arguments
          // ever appear in a command line (ps, /proc/*/cmdline); only the bootstrap's own state
          // is cleared first.
          "if [ \"$m\" = 0 ]; then",
          "  b=; IFS= read -r -d \"\" b; exec < /dev/null",
          "  for kv in \"${e[@]}\"; do export \"$kv\"; done",
          "  set -- \"${a[@]}\"; unset -v v t m n a e i x k kv; unset -f r fail",
          "  shopt -u execfail; [[ \"\" =~ ^$ ]]; BASH_ARGV0=workerpools-step",
          "  eval \"unset -v b\n$b\"",
          "  exit",
          "fi",
          "d=\"${TMPDIR:-/tmp}/workerpools-$t\"",
          "c() { cd /; [ \"$m\" = 2 ] || rm -rf \"$d\"; }",
          "trap \"c; exit 143\" TERM",
          "mkdir -m 700 \"$d\" || { d=; fail \"cannot create a directory in ${TMPDIR:-/tmp}\"; }",
          "r n",
          "for ((i=0; i<n; i++)); do r k; r x || { c; fail \"truncated files\"; };"
              + " mkdir -p \"$(dirname \"$d/$k\")\" && printf %s \"$x\" | base64 -d > \"$d/$k\""
              + " || { c; fail \"cannot write file\"; }; done",
          "cat > \"$d/.script\" || { c; fail \"cannot write the script\"; }",
          "cd \"$d\" || { c; fail \"cannot enter $d\"; }",
          // The script is sourced in a subshell, its arguments set there: none on a command line.
          "( for kv in \"${e[@]}\"; do export \"$kv\"; done; set -- \"${a[@]}\";"
              + " BASH_ARGV0=\"$d/.script\"; trap - TERM; shopt -u execfail; [[ \"\" =~ ^$ ]];"
              + " unset -v v t m n a e i x k kv d s; unset -f r fail c;"
              + " . \"$BASH_ARGV0\" ) < /dev/null &",
          "wait \"$!\"; s=$?",
          "c; exit $s");

  private static final String KILL_SCRIPT =
      String.join(
          "\n",
          "r() { IFS= read -r -d \"\" \"$1\"; }",
          "r p; r t; r m",
          "[[ $p =~ ^[1-9][0-9]*$ ]] && [ \"$p\" -gt 1 ] || exit 2",
          "[[ $t =~ ^[0-9a-f]{32}$ ]] || exit 2",
          "kill -TERM -- \"-$p\" 2>/dev/null || exit 0",
          "for ((i=0; i<40; i++)); do kill -0 -- \"-$p\" 2>/dev/null || exit 0; sleep 0.05; done",
          "kill -KILL -- \"-$p\" 2>/dev/null",
          "[ \"$m\" = 1 ] && rm -rf \"${TMPDIR:-/tmp}/workerpools-$t\"",
          "exit 0");

  /** Runs a step: reads the fields and the script from stdin. A constant. */
  public static final String RUN_COMMAND = "exec bash --norc -c '" + check(RUN_SCRIPT) + "'";

  /** Kills a step's process group: reads its id (and token) from stdin. A constant. */
  public static final String KILL_COMMAND = "exec bash --norc -c '" + check(KILL_SCRIPT) + "'";

  /** Reports the remote OS for the health check. A constant. */
  public static final String HEALTH_COMMAND = "uname -srm";

  private static final Pattern TOKEN = Pattern.compile("[0-9a-f]{32}");

  private static String check(String script) {
    if (script.indexOf('\'') >= 0) {
      // Only ever checks this class's own constants, at class load: a programming error that every
      // test of the transport shows, never a caller's (#13).
      throw new AssertionError("a bootstrap script must not contain a single quote");
    }
    return script;
  }

  /**
   * Whether a request can take the lean path: no files, working directory not kept, a body small
   * enough for an argument and free of NUL (which a bash variable cannot hold).
   *
   * @param alwaysDirectory the transport's option to give every step a private directory
   */
  public static boolean lean(ScriptRequest request, boolean alwaysDirectory) {
    String body = request.body();
    return !alwaysDirectory
        && request.files().isEmpty()
        && !request.keepWorkingDirectory()
        && body.length() <= LEAN_MAX_BODY / 3
        && body.indexOf('\0') < 0;
  }

  /**
   * The stdin of {@link #RUN_COMMAND} for this request.
   *
   * @param token the step's token: 32 lowercase hex digits
   * @param lean run on the lean path (see {@link #lean}); the request must qualify
   */
  public static byte[] runInput(String token, ScriptRequest request, boolean lean) {
    checkToken(token);
    if (lean && !lean(request, false)) {
      throw new IllegalArgumentException("this request cannot take the lean path");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(request.body().length() + 256);
    field(out, VERSION);
    field(out, token);
    field(out, mode(request, lean));
    List<String> args = request.arguments();
    field(out, Integer.toString(args.size()));
    for (String a : args) {
      field(out, a);
    }
    Map<String, String> env = request.environment();
    field(out, Integer.toString(env.size()));
    for (Map.Entry<String, String> e : env.entrySet()) {
      field(out, e.getKey());
      field(out, e.getValue());
    }
    if (!lean) {
      List<ScriptRequest.ScriptFile> files = request.files();
      field(out, Integer.toString(files.size()));
      for (ScriptRequest.ScriptFile f : files) {
        field(out, f.name());
        field(out, Base64.getEncoder().encodeToString(f.content()));
      }
    }
    byte[] body = request.body().getBytes(StandardCharsets.UTF_8);
    out.write(body, 0, body.length);
    return out.toByteArray();
  }

  private static String mode(ScriptRequest request, boolean lean) {
    if (lean) {
      return "0";
    }
    return request.keepWorkingDirectory() ? "2" : "1";
  }

  /**
   * Whether {@code line} ends with the bootstrap's stdout marker for this token: the end of what
   * the login shell's startup files wrote, before the script's own output.
   */
  public static boolean isOutMarker(String token, String line) {
    return line.endsWith(MARKER_PREFIX + token + OUT_SUFFIX);
  }

  /** Whether {@code line} is one of the bootstrap's own error messages. */
  public static boolean isBootstrapError(String line) {
    return line.startsWith("workerpools: ");
  }

  /**
   * The process group id in the bootstrap's marker line, if {@code line} is that line for this
   * token; -1 otherwise.
   */
  public static long pgidFromMarker(String token, String line) {
    String prefix = MARKER_PREFIX + token + MARKER_SUFFIX;
    int at = line.indexOf(prefix);
    int from = at + prefix.length();
    if (at < 0 || line.length() == from) {
      return -1;
    }
    long pgid = 0;
    for (int i = from; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c < '0' || c > '9' || i - from > 9) {
        return -1;
      }
      pgid = pgid * 10 + (c - '0');
    }
    return pgid > 1 ? pgid : -1;
  }

  /**
   * The stdin of {@link #KILL_COMMAND}: the step's process group, token and whether its private
   * directory must be removed if the bootstrap itself had to be killed.
   */
  public static byte[] killInput(long pgid, String token, ScriptRequest request, boolean lean) {
    checkToken(token);
    if (pgid <= 1) {
      throw new IllegalArgumentException("bad process group " + pgid);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    field(out, Long.toString(pgid));
    field(out, token);
    field(out, mode(request, lean));
    return out.toByteArray();
  }

  /** A value that may travel as a field: no NUL (POSIX strings cannot hold one). */
  public static void checkField(String what, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new io.workerpools.ConfigurationException(
          what, "contains a NUL character, which no POSIX argument or variable can hold");
    }
  }

  private static void checkToken(String token) {
    if (!TOKEN.matcher(token).matches()) {
      throw new IllegalArgumentException("bad token");
    }
  }

  private static void field(ByteArrayOutputStream out, String value) {
    byte[] b = value.getBytes(StandardCharsets.UTF_8);
    out.write(b, 0, b.length);
    out.write(0);
  }
}
