package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code service install|uninstall} writes and removes a systemd unit that {@code systemd-analyze
 * verify} accepts: a dedicated user, the file system read-only but for the home, and the hardening.
 */
class ServiceCommandTest {
  @TempDir Path dir;

  @Test
  void installWritesAUnitSystemdAcceptsAndUninstallRemovesIt() throws Exception {
    Path units = dir.resolve("units");
    Path home = dir.resolve("agent-home");
    Path jar = Files.writeString(dir.resolve("workerpools-agent.jar"), "not used by verify");
    AgentCli.Run install =
        AgentCli.run(
            dir,
            "service",
            "install",
            "--home",
            home.toString(),
            "--unit-dir",
            units.toString(),
            "--user",
            "wpagent",
            "--jar",
            jar.toString(),
            "--mode",
            "poll");
    assertThat(install.exit()).as("%s", install).isZero();
    Path unit = units.resolve("workerpools-agent.service");
    assertThat(install.out()).contains("wrote " + unit).contains("systemctl enable --now");
    assertThat(install.err())
        .contains("the user wpagent does not exist")
        .contains("useradd --system");
    String text = Files.readString(unit, StandardCharsets.UTF_8);
    assertThat(text.lines())
        .contains(
            "User=wpagent",
            "ExecStart="
                + Path.of(System.getProperty("java.home"), "bin", "java")
                + " -jar "
                + jar
                + " --home "
                + home
                + " poll",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=" + home,
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "SuccessExitStatus=143",
            "TimeoutStopSec=45s",
            "[Install]",
            "WantedBy=multi-user.target");
    assertThat(verify(unit)).as("systemd-analyze verify's complaints").isEmpty();

    // The same check does see a broken unit, so an empty answer above means something.
    Path broken = units.resolve("broken.service");
    Files.writeString(broken, text.replace("ProtectSystem=strict", "ProtectSystem=sometimes"));
    assertThat(verify(broken)).contains("protect system value");
    Files.delete(broken);

    AgentCli.Run devices =
        AgentCli.run(
            dir,
            "service",
            "install",
            "--home",
            "/var/lib/wp-agent",
            "--unit-dir",
            units.toString(),
            "--name",
            "wp2",
            "--user",
            "wpagent",
            "--jar",
            jar.toString(),
            "--allow-devices");
    assertThat(devices.exit()).as("%s", devices).isZero();
    String second = Files.readString(units.resolve("wp2.service"));
    assertThat(second.lines())
        .contains("StateDirectory=wp-agent", "StateDirectoryMode=0700")
        .doesNotContain("PrivateDevices=yes")
        .anyMatch(l -> l.endsWith(" listen"));
    assertThat(verify(units.resolve("wp2.service"))).isEmpty();

    AgentCli.Run asRoot =
        AgentCli.run(
            dir,
            "service",
            "install",
            "--home",
            home.toString(),
            "--unit-dir",
            units.toString(),
            "--name",
            "wp3",
            "--user",
            "root",
            "--jar",
            jar.toString());
    assertThat(asRoot.exit()).isEqualTo(Cli.USAGE);
    assertThat(asRoot.err()).contains("--user: 'root' is not valid: use a dedicated user");
    assertThat(units.resolve("wp3.service")).doesNotExist();

    AgentCli.Run uninstall =
        AgentCli.run(dir, "service", "uninstall", "--unit-dir", units.toString());
    assertThat(uninstall.exit()).as("%s", uninstall).isZero();
    assertThat(unit).doesNotExist();
    AgentCli.Run again = AgentCli.run(dir, "service", "uninstall", "--unit-dir", units.toString());
    assertThat(again.exit()).isEqualTo(Cli.FAILED);
    assertThat(again.err()).contains("no unit " + unit);
  }

  /** What {@code systemd-analyze verify} prints about a unit (nothing: it is accepted). */
  private String verify(Path unit) throws Exception {
    Process p =
        new ProcessBuilder("systemd-analyze", "verify", unit.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out.strip() + (p.exitValue() == 0 ? "" : "\n(exit " + p.exitValue() + ")");
  }
}
