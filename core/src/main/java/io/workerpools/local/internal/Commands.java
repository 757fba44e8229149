package io.workerpools.local.internal;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Command lines for scripts: the interpreter (looked up once), its options, the script file and the
 * arguments, each its own {@code argv} entry, never a string a shell parses; and, for a script run
 * as another user, the user switch in front ({@code runuser -u <user> --}, or {@code sudo -u <user>
 * -E --}), checked first so that a mistake is a clear message.
 */
public final class Commands {
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?");
  private static final String[] USER_SWITCHERS = {"runuser", "sudo"};

  private final Map<ScriptSyntax, String> interpreters;
  private final Executables executables;
  private final boolean runningAsRoot;

  public Commands(
      Map<ScriptSyntax, String> interpreters, Executables executables, boolean runningAsRoot) {
    this.interpreters = new EnumMap<>(interpreters);
    this.executables = executables;
    this.runningAsRoot = runningAsRoot;
  }

  /** Whether this process runs as root (uid 0). */
  public static boolean isRoot() {
    try {
      return WorkingDirectories.currentUid() == 0;
    } catch (IOException | RuntimeException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  public boolean runningAsRoot() {
    return runningAsRoot;
  }

  /**
   * The script's file name in its working directory: {@code script.sh}, {@code .ps1}, {@code .py}.
   */
  public static String scriptFileName(ScriptSyntax syntax) {
    return switch (syntax) {
      case POWERSHELL -> "script.ps1";
      case PYTHON -> "script.py";
      default -> "script.sh";
    };
  }

  /**
   * The other user a request runs as, looked up; empty if it runs as this host's user.
   *
   * @throws CouldNotStart if the name is invalid or unknown, or this host cannot switch user
   */
  public Optional<UserPrincipal> otherUser(ScriptRequest request, String where) {
    if (request.runAsUser().isEmpty()) {
      return Optional.empty();
    }
    String user = request.runAsUser().get();
    if (!USER_NAME.matcher(user).matches()) {
      throw new CouldNotStart("runAsUser '" + user + "' is not a valid OS user name");
    }
    if (!runningAsRoot) {
      throw new CouldNotStart(
          "running a script as user '"
              + user
              + "' on "
              + where
              + " needs the host process to run as root (it switches user with runuser or"
              + " sudo); run the host as root or remove runAsUser from the request");
    }
    if (userSwitcher().isEmpty()) {
      throw new CouldNotStart(
          "running a script as user '" + user + "' needs 'runuser' (util-linux) or 'sudo' on PATH");
    }
    try {
      return Optional.of(
          FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(user));
    } catch (UserPrincipalNotFoundException e) {
      throw new CouldNotStart("runAsUser '" + user + "' is not a user on " + where);
    } catch (IOException e) {
      throw new CouldNotStart("cannot look up runAsUser '" + user + "' on " + where + ": " + e);
    }
  }

  /**
   * {@code argv} for the request's script at {@code script}.
   *
   * @throws CouldNotStart if its interpreter is missing
   */
  public List<String> argv(ScriptRequest request, Path script, String where) {
    ScriptSyntax syntax = request.syntax();
    String name = interpreters.get(syntax);
    Optional<Path> interpreter = executables.find(name);
    if (interpreter.isEmpty()) {
      throw new CouldNotStart(
          "interpreter '"
              + name
              + "' for "
              + syntax
              + " scripts was not found on "
              + where
              + "; install it, configure its path with"
              + " LocalProcessTransport.builder().interpreter(ScriptSyntax."
              + syntax
              + ", \"/path/to/"
              + name
              + "\"), or run this step on a worker that has it");
    }
    List<String> command = new ArrayList<>();
    if (request.runAsUser().isPresent()) {
      Path switcher = userSwitcher().orElseThrow(() -> new CouldNotStart("no runuser or sudo"));
      command.add(switcher.toString());
      command.add("-u");
      command.add(request.runAsUser().get());
      if (!switcher.getFileName().toString().equals("runuser")) {
        // sudo resets the environment unless told to keep it; what it keeps is what we pass, which
        // holds nothing of the host's but PATH, LANG, TZ, LC_* (runuser keeps it without asking,
        // and sets HOME, SHELL, USER and LOGNAME to the other user's). Never runuser -p.
        command.add("-E");
      }
      command.add("--");
    }
    command.add(interpreter.get().toString());
    switch (syntax) {
      case POWERSHELL ->
          command.addAll(
              List.of(
                  "-NoLogo",
                  "-NoProfile",
                  "-NonInteractive",
                  "-ExecutionPolicy",
                  "Bypass",
                  "-File"));
      case PYTHON -> command.add("-u"); // unbuffered: lines arrive as they are printed
      default -> {}
    }
    command.add(script.toString());
    command.addAll(request.arguments());
    return command;
  }

  private Optional<Path> userSwitcher() {
    for (String s : USER_SWITCHERS) {
      Optional<Path> p = executables.find(s);
      if (p.isPresent() && Files.isExecutable(p.get())) {
        return p;
      }
    }
    return Optional.empty();
  }
}
