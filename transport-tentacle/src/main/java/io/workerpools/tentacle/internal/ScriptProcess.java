package io.workerpools.tentacle.internal;

import io.workerpools.local.HostEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the agent starts and kills a script's process, as the built-in worker does: the interpreter
 * with the same flags (Python unbuffered, PowerShell without profile or prompts), a clean
 * environment (only core's {@link HostEnvironment#clean()} names from the agent's own environment,
 * then the request's variables: an agent holding secrets in its environment does not hand them to
 * scripts), its own process group under {@code setsid}, and a kill that reaches the whole group.
 */
final class ScriptProcess {
  private static final Logger LOG = LoggerFactory.getLogger(ScriptProcess.class);
  private static final String SETSID = findOnPath("setsid");

  private ScriptProcess() {}

  /** The file name the script body is written to; refuses an unknown syntax. */
  static String scriptFile(String syntax) {
    return switch (syntax == null ? "" : syntax) {
      case "BASH", "SH" -> "script.sh";
      case "PYTHON" -> "script.py";
      case "POWERSHELL" -> "script.ps1";
      default ->
          throw new IllegalArgumentException(
              "unknown script syntax '" + syntax + "': use BASH, SH, PYTHON or POWERSHELL");
    };
  }

  /** The interpreter's name, for messages. */
  static String interpreter(String syntax) {
    return switch (syntax) {
      case "BASH" -> "bash";
      case "SH" -> "sh";
      case "PYTHON" -> "python3";
      default -> "pwsh";
    };
  }

  /** The command line: {@code [setsid] interpreter [flags] script args...}. */
  static List<String> command(String syntax, Path script, List<String> arguments) {
    List<String> cmd = new ArrayList<>();
    if (SETSID != null) {
      // Its own process group, so that cancel also reaches children that were re-parented.
      cmd.add(SETSID);
    }
    cmd.add(interpreter(syntax));
    switch (syntax) {
      case "PYTHON" -> cmd.add("-u"); // unbuffered: lines arrive as they are printed
      case "POWERSHELL" ->
          cmd.addAll(
              List.of(
                  "-NoLogo",
                  "-NoProfile",
                  "-NonInteractive",
                  "-ExecutionPolicy",
                  "Bypass",
                  "-File"));
      default -> {}
    }
    cmd.add(script.toAbsolutePath().toString());
    if (arguments != null) {
      cmd.addAll(arguments);
    }
    return cmd;
  }

  /** A process builder with the clean environment plus the request's variables. */
  static ProcessBuilder builder(List<String> command, Path workDir, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    Map<String, String> e = pb.environment();
    Map<String, String> kept = HostEnvironment.clean().select(System.getenv());
    e.clear();
    e.putAll(kept);
    if (env != null) {
      e.putAll(env);
    }
    return pb;
  }

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
  static void killTree(Process p) {
    ProcessHandle h = p.toHandle();
    // Even when the script itself has exited: its process group may still hold its leftovers.
    killGroup(p.pid());
    for (int round = 0; round < 2; round++) {
      h.descendants().forEach(ProcessHandle::destroyForcibly);
    }
    p.destroyForcibly();
  }
}
