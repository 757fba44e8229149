package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The systemd unit that runs the agent as a service: as a dedicated user, with the file system
 * read-only but for the agent's home, and the hardening an agent that runs other people's scripts
 * can live with (the trade-offs are in {@code docs/agent.md}). Pure: renders text.
 *
 * @param name the service's name (the unit file is {@code NAME.service})
 * @param user the user the agent runs as
 * @param java the java binary
 * @param jar the agent jar
 * @param home the agent's home
 * @param config the config file, or null for {@code HOME/agent.properties}
 * @param mode {@code listen} or {@code poll}
 * @param privateDevices whether scripts see only pseudo-devices ({@code /dev/null}, ...)
 * @param stopTimeoutSeconds how long systemd waits on stop before it kills what is left
 */
record SystemdUnit(
    String name,
    String user,
    Path java,
    Path jar,
    Path home,
    Path config,
    String mode,
    boolean privateDevices,
    long stopTimeoutSeconds) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}");
  private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  // Characters systemd's command line, a unit file or a shell would read specially.
  private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9_./+,=@:-]*");

  SystemdUnit {
    check(NAME.matcher(name).matches(), "--name", name, "letters, digits, '_', '.', '@', '-'");
    check(
        USER.matcher(user).matches(), "--user", user, "a user name (lower case, digits, '_', '-')");
    check(!"root".equals(user), "--user", user, "a dedicated user, not root");
    safePath("--java", java);
    safePath("--jar", jar);
    safePath("--home", home);
    if (config != null) {
      safePath("--config", config);
    }
    check(mode.equals("listen") || mode.equals("poll"), "--mode", mode, "listen or poll");
  }

  private static void check(boolean ok, String field, String value, String allowed) {
    if (!ok) {
      throw new ConfigurationException(field, "'" + value + "' is not valid: use " + allowed);
    }
  }

  private static void safePath(String field, Path p) {
    Objects.requireNonNull(p, field);
    check(
        p.isAbsolute() && SAFE_PATH.matcher(p.toString()).matches(),
        field,
        p.toString(),
        "an absolute path of letters, digits and _ . / + , = @ : - (no spaces, quotes, % or $)");
  }

  /** The unit file's name. */
  String fileName() {
    return name + ".service";
  }

  /** The state directory systemd creates for the user, if the home is {@code /var/lib/X}. */
  private String stateDirectory() {
    Path parent = home.getParent();
    return parent != null && parent.equals(Path.of("/var/lib"))
        ? home.getFileName().toString()
        : null;
  }

  private boolean homeUnderHomes() {
    return home.startsWith("/home") || home.startsWith("/root") || home.startsWith("/run/user");
  }

  /** The unit file's text. */
  String render() {
    List<String> exec = new ArrayList<>(List.of(java.toString(), "-jar", jar.toString()));
    exec.add("--home");
    exec.add(home.toString());
    if (config != null) {
      exec.add("--config");
      exec.add(config.toString());
    }
    exec.add(mode);
    StringBuilder b = new StringBuilder();
    line(b, "# Written by 'workerpools-agent service install'. Settings: " + configFile());
    line(b, "# Edit the settings there; change this unit with 'systemctl edit " + name + "'.");
    line(b, "[Unit]");
    line(b, "Description=WorkerPools agent (" + mode + "ing)");
    line(b, "After=network-online.target");
    line(b, "Wants=network-online.target");
    line(b, "");
    line(b, "[Service]");
    line(b, "Type=simple");
    line(b, "User=" + user);
    line(b, "ExecStart=" + String.join(" ", exec));
    line(b, "Restart=on-failure");
    line(b, "RestartSec=5s");
    line(b, "# The agent stops its scripts itself on SIGTERM; the JVM then exits 143.");
    line(b, "KillMode=mixed");
    line(b, "TimeoutStopSec=" + stopTimeoutSeconds + "s");
    line(b, "SuccessExitStatus=143");
    line(b, "UMask=0077");
    String state = stateDirectory();
    if (state != null) {
      line(b, "StateDirectory=" + state);
      line(b, "StateDirectoryMode=0700");
    }
    line(b, "# Hardening: see docs/agent.md for what each line costs the scripts the agent runs.");
    line(b, "NoNewPrivileges=yes");
    line(b, "ProtectSystem=strict");
    if (homeUnderHomes()) {
      line(b, "ProtectHome=tmpfs");
      line(b, "BindPaths=" + home);
    } else {
      line(b, "ProtectHome=yes");
      line(b, "ReadWritePaths=" + home);
    }
    line(b, "PrivateTmp=yes");
    if (privateDevices) {
      line(b, "PrivateDevices=yes");
    }
    line(b, "ProtectKernelTunables=yes");
    line(b, "ProtectKernelModules=yes");
    line(b, "ProtectKernelLogs=yes");
    line(b, "ProtectControlGroups=yes");
    line(b, "ProtectClock=yes");
    line(b, "RestrictSUIDSGID=yes");
    line(b, "RestrictRealtime=yes");
    line(b, "LockPersonality=yes");
    line(b, "CapabilityBoundingSet=");
    line(b, "");
    line(b, "[Install]");
    line(b, "WantedBy=multi-user.target");
    return b.toString();
  }

  private String configFile() {
    return config != null ? config.toString() : home.resolve(Settings.FILE_NAME).toString();
  }

  private static void line(StringBuilder b, String s) {
    b.append(s).append('\n');
  }
}
