package io.workerpools.container.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.container.ContainerSpec;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.transport.ScriptRequest;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Turns a container step into a plain script for the worker's own transport: a POSIX shell wrapper
 * that runs {@code docker run} (or {@code podman run}) with the step's working directory mounted.
 * The user's script and its environment travel as files placed beside the wrapper (the transport
 * writes them 0600 and removes them with the working directory); inside the container a constant
 * entry program reads the environment file, deletes it and runs the script. So neither the script
 * nor an environment value is ever on a command line, in {@code ps}, or in {@code docker inspect}
 * (an engine's {@code --env-file} or {@code -e} would put values into the container's
 * configuration).
 *
 * <p>The wrapper and the entry speak to the library through marker lines on stderr, {@code <marker>
 * <event>}, with a marker that holds a random nonce per run; {@link ContainerOutput} removes them
 * from the step's log.
 */
public final class WrapperScript {
  /** The user's script, beside the wrapper. */
  public static final String SCRIPT_FILE = ".wp-container-script";

  /** The user's environment as shell assignments, beside the wrapper; removed once read. */
  public static final String ENV_FILE = ".wp-container-env";

  private static final SecureRandom RANDOM = new SecureRandom();

  private WrapperScript() {}

  /** A fresh marker for one run. */
  public static String newMarker() {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    return "##wp-container:" + HexFormat.of().formatHex(b);
  }

  /** The plain request that runs {@code r} in its container, reporting through {@code marker}. */
  public static ScriptRequest wrap(ScriptRequest r, String marker) {
    ContainerSpec spec = r.container().orElseThrow();
    ScriptRequest.Builder b =
        ScriptRequest.builder(
                ScriptSyntax.BASH,
                body(
                    r.executionId(),
                    spec,
                    marker,
                    r.timeout().isPresent()
                        ? OptionalLong.of(r.timeout().get().toSeconds() + 1)
                        : OptionalLong.empty()))
            .executionId(r.executionId())
            .keepWorkingDirectory(r.keepWorkingDirectory())
            .isolation(r.isolation(), r.mutexName(), r.mutexTimeout());
    r.timeout().ifPresent(b::timeout);
    for (String a : r.arguments()) {
      b.argument(a);
    }
    for (String v : r.sensitiveValues()) {
      b.sensitiveValue(v);
    }
    for (ScriptRequest.ScriptFile f : r.files()) {
      if (f.name().equals(SCRIPT_FILE) || f.name().equals(ENV_FILE)) {
        throw new ConfigurationException(
            "files.name", "'" + f.name() + "' is reserved for container steps; rename the file");
      }
      b.file(f.name(), f.content());
    }
    b.file(SCRIPT_FILE, r.body().getBytes(StandardCharsets.UTF_8));
    if (!r.environment().isEmpty()) {
      b.file(ENV_FILE, envFile(r.environment()).getBytes(StandardCharsets.UTF_8));
    }
    return b.build();
  }

  /** The environment as lines the entry sources with {@code set -a}. */
  static String envFile(Map<String, String> env) {
    StringBuilder s = new StringBuilder();
    env.forEach((k, v) -> s.append(k).append('=').append(Shell.quote(v)).append('\n'));
    return s.toString();
  }

  /** The program the container runs ({@code sh -c}): constant but for the marker and shell. */
  static String entry(ContainerSpec spec, String marker) {
    String run =
        spec.shell()
            .map(sh -> "exec " + Shell.quote(sh) + " ./" + SCRIPT_FILE + " \"$@\"")
            .orElse(
                "if command -v bash >/dev/null 2>&1; then exec bash ./"
                    + SCRIPT_FILE
                    + " \"$@\"; fi; exec sh ./"
                    + SCRIPT_FILE
                    + " \"$@\"");
    return "printf '%s started\\n' "
        + Shell.quote(marker)
        + " >&2; if [ -f ./"
        + ENV_FILE
        + " ]; then set -a; . ./"
        + ENV_FILE
        + "; set +a; rm -f ./"
        + ENV_FILE
        + "; fi; "
        + run;
  }

  /** The wrapper the worker's transport runs. */
  static String body(
      String executionId, ContainerSpec spec, String marker, OptionalLong timeoutSeconds) {
    String m = Shell.quote(marker);
    StringBuilder s = new StringBuilder();
    s.append("m=").append(m).append('\n');
    s.append(Shell.pickCli("printf '%s no-engine\\n' \"$m\" >&2; exit 127"));
    s.append("u=")
        .append(spec.user().map(Shell::quote).orElse("\"$(id -u):$(id -g)\""))
        .append('\n');
    s.append("now=$(date +%s)\n");
    s.append("\"$c\" run --rm --pull=").append(spec.pullPolicy().cliValue());
    s.append(" --label ").append(Shell.quote(ContainerSpec.LIBRARY_LABEL + "=true"));
    s.append(" --label ").append(Shell.quote(ContainerSpec.EXECUTION_LABEL + "=" + executionId));
    s.append(" --label ").append(ContainerSpec.STARTED_LABEL).append("=\"$now\"");
    timeoutSeconds.ifPresent(
        t ->
            s.append(" --label ")
                .append(ContainerSpec.DEADLINE_LABEL)
                .append("=\"$((now + ")
                .append(t + 60)
                .append("))\""));
    for (var e : spec.labels().entrySet()) {
      s.append(" --label ").append(Shell.quote(e.getKey() + "=" + e.getValue()));
    }
    s.append(" --network ").append(Shell.quote(spec.network()));
    s.append(" --user \"$u\"");
    s.append(" --workdir ").append(Shell.quote(spec.workingDirectory()));
    s.append(" --volume \"$PWD\":").append(Shell.quote(spec.workingDirectory()));
    for (ContainerSpec.Mount mount : spec.mounts()) {
      s.append(" --volume ")
          .append(
              Shell.quote(mount.source() + ":" + mount.target() + (mount.readOnly() ? ":ro" : "")));
    }
    spec.cpus().ifPresent(c -> s.append(" --cpus ").append(Shell.quote(Double.toString(c))));
    spec.memoryBytes().ifPresent(b -> s.append(" --memory ").append(b));
    s.append(" --entrypoint /bin/sh ").append(Shell.quote(spec.image()));
    s.append(" -c ").append(Shell.quote(entry(spec, marker))).append(" wp-container \"$@\"\n");
    s.append("rc=$?\n");
    // The library knows whether the container started from the entry's marker line. 125 is the
    // engines' own failure (and, rarely, a script's exit code): say whether the image is there,
    // so that the result can name the problem.
    s.append("if [ \"$rc\" -eq 125 ]; then \"$c\" image inspect ")
        .append(Shell.quote(spec.image()))
        .append(" >/dev/null 2>&1 || printf '%s no-image\\n' \"$m\" >&2; fi\n");
    s.append("exit \"$rc\"\n");
    return s.toString();
  }

  /**
   * Checks the worker's engine and prints {@code ##wp-engine <kind> ok <version>}, {@code
   * ##wp-engine <kind> down <problem>} or {@code ##wp-engine none}; when the engine answers, it
   * also removes the library's containers that are orphans: stopped ones, ones created more than
   * two minutes ago and never started, and running ones past their {@link
   * ContainerSpec#DEADLINE_LABEL} (a step whose clean-up could not run).
   */
  public static String probe() {
    return "m='"
        + ENGINE_MARKER
        + "'\n"
        + Shell.pickCli("printf '%s none\\n' \"$m\"; exit 0")
        + "if [ \"$c\" = docker ]; then f='{{.Server.Version}}'; else f='{{.Client.Version}}'; fi\n"
        + "if ! v=$(\"$c\" version --format \"$f\" 2>&1); then\n"
        + "  printf '%s %s down %s\\n' \"$m\" \"$c\" \"$(printf '%s' \"$v\" | tr '\\n' ' ' | cut -c1-300)\"\n"
        + "  exit 0\nfi\n"
        + "printf '%s %s ok %s\\n' \"$m\" \"$c\" \"$v\"\n"
        + "now=$(date +%s)\n"
        + "\"$c\" ps -a --filter "
        + Shell.quote("label=" + ContainerSpec.LIBRARY_LABEL + "=true")
        + " --format '{{.ID}} {{.State}} {{.Label \""
        + ContainerSpec.STARTED_LABEL
        + "\"}} {{.Label \""
        + ContainerSpec.DEADLINE_LABEL
        + "\"}}' 2>/dev/null | while read -r id state started deadline; do\n"
        + "  case \"$state\" in\n"
        + "    exited|dead) ;;\n"
        // A container is "created" for a moment while its step starts it: only old ones are
        // orphans.
        + "    created) [ \"$now\" -gt \"$((${started:-0} + 120))\" ] || continue ;;\n"
        + "    *) [ -n \"$deadline\" ] && [ \"$now\" -gt \"$deadline\" ] || continue ;;\n"
        + "  esac\n"
        + "  \"$c\" rm -f \"$id\" >/dev/null 2>&1\n"
        + "done\n";
  }

  /** The marker of the probe's answer line. */
  public static final String ENGINE_MARKER = "##wp-engine";

  /** Removes every container of the execution, running or not; quiet when there is none. */
  public static String cleanup(String executionId) {
    return Shell.pickCli("exit 0")
        + "ids=$(\"$c\" ps -aq --filter "
        + Shell.quote("label=" + ContainerSpec.EXECUTION_LABEL + "=" + executionId)
        + ")\n"
        + "[ -z \"$ids\" ] || \"$c\" rm -f $ids >/dev/null\n";
  }
}
