package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import io.workerpools.tentacle.AgentMain;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code service install|uninstall}: the agent as a systemd service. */
@Command(
    name = "service",
    mixinStandardHelpOptions = true,
    description = "Installs or removes the systemd unit that runs the agent as a service.",
    subcommands = {ServiceCommand.Install.class, ServiceCommand.Uninstall.class})
final class ServiceCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("error: give install or uninstall");
    spec.commandLine().usage(spec.commandLine().getErr());
    return Cli.USAGE;
  }

  /** Options both subcommands share. */
  static class Where {
    @Option(
        names = "--name",
        paramLabel = "NAME",
        defaultValue = "workerpools-agent",
        description = "the service's name (default ${DEFAULT-VALUE})")
    String name;

    @Option(
        names = "--unit-dir",
        paramLabel = "DIR",
        defaultValue = "/etc/systemd/system",
        description = "where the unit file goes (default ${DEFAULT-VALUE})")
    Path unitDir;
  }

  /** {@code service install}. */
  @Command(
      name = "install",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Writes NAME.service: runs 'java -jar JAR --home HOME MODE' as a dedicated user, the file"
            + " system read-only but for HOME, with the hardening listed in docs/agent.md. The"
            + " agent's settings stay in its config file (HOME/agent.properties or --config).",
        "With --start it also runs 'systemctl daemon-reload' and 'systemctl enable --now NAME'."
      })
  static final class Install implements Callable<Integer> {
    @Mixin Invocation invocation;
    @Mixin Where where;

    @Option(
        names = "--user",
        paramLabel = "USER",
        defaultValue = "workerpools-agent",
        description = "the user the agent runs as (default ${DEFAULT-VALUE}); never root")
    String user;

    @Option(
        names = "--mode",
        paramLabel = "listen|poll",
        defaultValue = "listen",
        description = "how the agent runs (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--java", paramLabel = "PATH", description = "java (default: this one)")
    Path java;

    @Option(
        names = "--jar",
        paramLabel = "PATH",
        description = "the agent jar (default: the one running)")
    Path jar;

    @Option(
        names = "--allow-devices",
        description =
            "let scripts see the host's devices (drops PrivateDevices=yes; for scripts that need"
                + " disks, GPUs or serial ports)")
    boolean allowDevices;

    @Option(names = "--start", description = "reload systemd and enable and start the service")
    boolean start;

    @Override
    public Integer call() throws IOException, InterruptedException {
      Settings s = invocation.settings();
      Path home = invocation.home();
      Path config =
          s.file() != null && !s.file().equals(home.resolve(Settings.FILE_NAME)) ? s.file() : null;
      SystemdUnit unit =
          new SystemdUnit(
              where.name,
              user,
              java != null ? java : Path.of(System.getProperty("java.home"), "bin", "java"),
              jar != null ? jar.toAbsolutePath() : runningJar(),
              home,
              config,
              mode,
              !allowDevices,
              s.duration(Setting.SHUTDOWN_TIMEOUT).toSeconds() + 15);
      Path file = where.unitDir.resolve(unit.fileName());
      Files.createDirectories(where.unitDir);
      Path tmp = Files.createTempFile(where.unitDir, "." + unit.fileName(), ".tmp");
      try {
        Files.writeString(tmp, unit.render(), StandardCharsets.UTF_8);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      invocation.out().println("wrote " + file);
      try {
        FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(user);
      } catch (UserPrincipalNotFoundException e) {
        invocation
            .err()
            .println(
                "note: the user "
                    + user
                    + " does not exist; create it: useradd --system --home-dir "
                    + home
                    + " --shell /usr/sbin/nologin "
                    + user);
      }
      if (start) {
        systemctl(invocation, "daemon-reload");
        return systemctl(invocation, "enable", "--now", where.name);
      }
      invocation
          .out()
          .println("next: systemctl daemon-reload && systemctl enable --now " + where.name);
      return Cli.OK;
    }

    private static Path runningJar() {
      try {
        Path p =
            Path.of(AgentMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
          return p;
        }
      } catch (URISyntaxException | SecurityException | NullPointerException e) {
        // not run from a jar
      }
      throw new ConfigurationException(
          "--jar", "not run from the agent jar: give the jar's path with --jar PATH");
    }
  }

  /** {@code service uninstall}. */
  @Command(
      name = "uninstall",
      mixinStandardHelpOptions = true,
      description = {
        "Removes NAME.service. With --stop it first runs 'systemctl disable --now NAME', and"
            + " 'systemctl daemon-reload' after. The agent's home is left as it is."
      })
  static final class Uninstall implements Callable<Integer> {
    @Mixin Invocation invocation;
    @Mixin Where where;

    @Option(names = "--stop", description = "stop and disable the service first")
    boolean stop;

    @Override
    public Integer call() throws IOException, InterruptedException {
      invocation.settings();
      Path file = where.unitDir.resolve(where.name + ".service");
      if (!Files.exists(file)) {
        invocation.err().println("error: no unit " + file + " to remove");
        return Cli.FAILED;
      }
      if (stop) {
        int rc = systemctl(invocation, "disable", "--now", where.name);
        if (rc != Cli.OK) {
          return rc;
        }
      }
      Files.delete(file);
      invocation.out().println("removed " + file);
      if (stop) {
        return systemctl(invocation, "daemon-reload");
      }
      invocation.out().println("next: systemctl daemon-reload");
      return Cli.OK;
    }
  }

  private static int systemctl(Invocation invocation, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>(List.of("systemctl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      invocation.err().println("error: " + String.join(" ", cmd) + " did not end within 2 minutes");
      return Cli.FAILED;
    }
    if (p.exitValue() != 0) {
      invocation.err().println("error: " + String.join(" ", cmd) + " exited " + p.exitValue());
      return Cli.FAILED;
    }
    return Cli.OK;
  }
}
