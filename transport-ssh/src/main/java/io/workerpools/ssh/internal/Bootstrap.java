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
 * <p>The step runs under {@code setsid}, so it leads its own process group; its pid goes to a pid
 * file in the step's private temporary directory, from where {@link #KILL_COMMAND}, run on another
 * channel, kills the whole group. The {@code cancelled} marker closes the race between the kill and
 * a step that has not started yet.
 */
public final class Bootstrap {
  private Bootstrap() {}

  /** The protocol version the bootstrap checks. */
  static final String VERSION = "1";

  /** Exit code of the bootstrap when its input is malformed or the temp dir cannot be made. */
  public static final int SETUP_FAILED = 120;

  /** Exit code of the bootstrap when it saw the cancel marker before starting the script. */
  public static final int CANCELLED_BEFORE_START = 121;

  private static final String RUN_SCRIPT =
      String.join(
          "\n",
          "r() { IFS= read -r -d \"\" \"$1\"; }",
          "fail() { echo \"workerpools: $1\" >&2; exit " + SETUP_FAILED + "; }",
          "r v || fail \"no input\"; [ \"$v\" = "
              + VERSION
              + " ] || fail \"unsupported protocol $v\"",
          "r t; [[ $t =~ ^[0-9a-f]{32}$ ]] || fail \"bad token\"",
          "r keep; r n; a=()",
          "for ((i=0; i<n; i++)); do r x || fail \"truncated arguments\"; a+=(\"$x\"); done",
          "r n; e=()",
          "for ((i=0; i<n; i++)); do r k; r x || fail \"truncated environment\";"
              + " [[ $k =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || fail \"bad variable name\"; e+=(\"$k=$x\"); done",
          "d=\"${TMPDIR:-/tmp}/workerpools-$t\"",
          "mkdir -m 700 \"$d\" || fail \"cannot create $d\"",
          "r n",
          "for ((i=0; i<n; i++)); do r k; r x || fail \"truncated files\";"
              + " mkdir -p \"$(dirname \"$d/$k\")\" && printf %s \"$x\" | base64 -d > \"$d/$k\""
              + " || fail \"cannot write file\"; done",
          "cat > \"$d/.script\" || fail \"cannot write the script\"",
          "cd \"$d\" || fail \"cannot enter $d\"",
          "if [ -e \"$d/.cancelled\" ]; then cd /; rm -rf \"$d\"; exit "
              + CANCELLED_BEFORE_START
              + "; fi",
          "( for kv in \"${e[@]}\"; do export \"$kv\"; done;"
              + " exec setsid \"$BASH\" \"$d/.script\" \"${a[@]}\" ) < /dev/null &",
          "p=$!",
          "echo \"$p\" > \"$d/.pid\"",
          "[ -e \"$d/.cancelled\" ] && kill -KILL -- \"-$p\" 2>/dev/null",
          "wait \"$p\"; c=$?",
          "cd /",
          "[ \"$keep\" = 1 ] || rm -rf \"$d\"",
          "exit $c");

  private static final String KILL_SCRIPT =
      String.join(
          "\n",
          "IFS= read -r -d \"\" t; [[ $t =~ ^[0-9a-f]{32}$ ]] || exit 2",
          "d=\"${TMPDIR:-/tmp}/workerpools-$t\"; p=; seen=",
          "for ((i=0; i<100; i++)); do",
          "  if [ -s \"$d/.pid\" ]; then p=$(cat \"$d/.pid\"); break; fi",
          "  if [ -d \"$d\" ]; then seen=1; : > \"$d/.cancelled\" 2>/dev/null;"
              + " elif [ -n \"$seen\" ] || [ $i -ge 20 ]; then exit 0; fi",
          "  sleep 0.05",
          "done",
          "[ -n \"$p\" ] || exit 0",
          "kill -TERM -- \"-$p\" 2>/dev/null || exit 0",
          "for ((i=0; i<40; i++)); do kill -0 -- \"-$p\" 2>/dev/null || exit 0; sleep 0.05; done",
          "kill -KILL -- \"-$p\" 2>/dev/null",
          "exit 0");

  /** Runs a step: reads the fields and the script from stdin. A constant. */
  public static final String RUN_COMMAND = "exec bash -c '" + check(RUN_SCRIPT) + "'";

  /** Kills a step's process group: reads the step's token from stdin. A constant. */
  public static final String KILL_COMMAND = "exec bash -c '" + check(KILL_SCRIPT) + "'";

  /** Reports the remote OS for the health check. A constant. */
  public static final String HEALTH_COMMAND = "uname -srm";

  private static final Pattern TOKEN = Pattern.compile("[0-9a-f]{32}");

  private static String check(String script) {
    if (script.indexOf('\'') >= 0) {
      throw new IllegalStateException("a bootstrap script must not contain a single quote");
    }
    return script;
  }

  /**
   * The stdin of {@link #RUN_COMMAND} for this request.
   *
   * @param token the step's token: 32 lowercase hex digits
   */
  public static byte[] runInput(String token, ScriptRequest request) {
    checkToken(token);
    ByteArrayOutputStream out = new ByteArrayOutputStream(request.body().length() + 256);
    field(out, VERSION);
    field(out, token);
    field(out, request.keepWorkingDirectory() ? "1" : "0");
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
    List<ScriptRequest.ScriptFile> files = request.files();
    field(out, Integer.toString(files.size()));
    for (ScriptRequest.ScriptFile f : files) {
      field(out, f.name());
      field(out, Base64.getEncoder().encodeToString(f.content()));
    }
    byte[] body = request.body().getBytes(StandardCharsets.UTF_8);
    out.write(body, 0, body.length);
    return out.toByteArray();
  }

  /** The stdin of {@link #KILL_COMMAND} for a step's token. */
  public static byte[] killInput(String token) {
    checkToken(token);
    ByteArrayOutputStream out = new ByteArrayOutputStream(40);
    field(out, token);
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
