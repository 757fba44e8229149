package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.workerpools.tentacle.TentacleCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's command line as an operator meets it, each case a separate process: help, version,
 * exit codes, errors that name the argument, the certificate commands, the config file under the
 * flags, and the rules for the agent's home.
 */
class AgentCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void helpVersionAndBadArgumentsSayWhatTheyShouldWithTheirExitCodes() throws Exception {
    AgentCli.Run help = AgentCli.run(dir, "--help");
    assertThat(help.exit()).as("%s", help).isZero();
    assertThat(help.out())
        .contains("Usage: workerpools-agent")
        .contains("new-certificate", "show-thumbprint", "show-config", "listen", "poll", "service")
        .contains("Exit codes:")
        .contains("--log-format=text|json");

    AgentCli.Run listenHelp = AgentCli.run(dir, "listen", "--help");
    assertThat(listenHelp.exit()).isZero();
    assertThat(listenHelp.out())
        .contains("Usage: workerpools-agent listen")
        .contains("--port=PORT", "--max-frame=BYTES", "file key frame.max-bytes")
        .doesNotContain("--subscription");

    AgentCli.Run version = AgentCli.run(dir, "--version");
    assertThat(version.exit()).isZero();
    assertThat(version.outLines().get(0)).startsWith("workerpools-agent ");

    AgentCli.Run none = AgentCli.run(dir);
    assertThat(none.exit()).as("%s", none).isEqualTo(Cli.USAGE);
    assertThat(none.err()).contains("give a COMMAND").contains("Usage: workerpools-agent");

    AgentCli.Run unknown = AgentCli.run(dir, "listen", "--prot", "1");
    assertThat(unknown.exit()).as("%s", unknown).isEqualTo(Cli.USAGE);
    assertThat(unknown.err())
        .contains("Unknown option", "'--prot'")
        .contains("Usage: workerpools-agent listen");
    assertThat(unknown.out()).isEmpty();

    AgentCli.Run bad =
        AgentCli.run(dir, "--home", dir.resolve("h").toString(), "listen", "--port", "70000");
    assertThat(bad.exit()).as("%s", bad).isEqualTo(Cli.USAGE);
    assertThat(bad.err()).contains("--port: must be 0 to 65535 but was 70000");
  }

  @Test
  void newCertificateKeepsItsCertificateAndShowThumbprintPrintsItAsTextOrJson() throws Exception {
    String home = dir.resolve("home").toString();
    AgentCli.Run before = AgentCli.run(dir, "show-thumbprint", "--home", home);
    assertThat(before.exit()).as("%s", before).isEqualTo(Cli.FAILED);
    assertThat(before.err()).contains("has no certificate yet").contains("new-certificate");
    assertThat(dir.resolve("home")).as("show-thumbprint creates nothing").doesNotExist();

    AgentCli.Run created = AgentCli.run(dir, "--home", home, "new-certificate");
    assertThat(created.exit()).as("%s", created).isZero();
    String thumbprint =
        TentacleCertificate.loadOrCreate(dir.resolve("home/certificate"), "x").thumbprint();
    assertThat(created.outLines()).containsExactly("thumbprint: " + thumbprint);
    assertThat(mode(dir.resolve("home"))).isEqualTo("rwx------");

    AgentCli.Run again = AgentCli.run(dir, "--home", home, "cert");
    assertThat(again.outLines())
        .as("the old spelling keeps it")
        .containsExactly(created.out().strip());
    assertThat(again.err()).contains("kept the existing certificate");

    AgentCli.Run plain = AgentCli.run(dir, "--home", home, "show-thumbprint");
    assertThat(plain.exit()).isZero();
    assertThat(plain.outLines()).containsExactly(thumbprint);
    AgentCli.Run json = AgentCli.run(dir, "--home", home, "show-thumbprint", "--json");
    assertThat(JSON.readTree(json.out()).get("thumbprint").asText()).isEqualTo(thumbprint);
    AgentCli.Run format = AgentCli.run(dir, "--home", home, "show-thumbprint", "--format", "xml");
    assertThat(format.exit()).isEqualTo(Cli.USAGE);
    assertThat(format.err()).contains("'--format'").contains("xml");

    AgentCli.Run replaced = AgentCli.run(dir, "--home", home, "new-certificate", "--replace");
    assertThat(replaced.exit()).isZero();
    assertThat(replaced.outLines().get(0)).matches("thumbprint: [0-9A-F]{64}");
    assertThat(replaced.outLines().get(0)).isNotEqualTo("thumbprint: " + thumbprint);
    assertThat(replaced.err())
        .contains("replaced the certificate whose thumbprint was " + thumbprint);
  }

  @Test
  void aFlagOverridesTheConfigFileWhichOverridesTheDefaults() throws Exception {
    Path home = Files.createDirectory(dir.resolve("home"));
    Files.writeString(
        home.resolve("agent.properties"),
        "# comment\nlisten.port = 10944\nhandshake.timeout = 2s\nlog.level = debug\n");
    AgentCli.Run r =
        AgentCli.run(
            dir,
            "--home",
            home.toString(),
            "show-config",
            "--json",
            "--handshake-timeout",
            "750ms");
    assertThat(r.exit()).as("%s", r).isZero();
    JsonNode j = JSON.readTree(r.out());
    assertThat(j.get("home").asText()).isEqualTo(home.toString());
    assertThat(j.get("config").asText()).isEqualTo(home.resolve("agent.properties").toString());
    JsonNode s = j.get("settings");
    assertThat(s.get("listen.port").get("value").asText()).isEqualTo("10944");
    assertThat(s.get("listen.port").get("source").asText()).isEqualTo("file");
    assertThat(s.get("handshake.timeout").get("value").asText()).isEqualTo("750ms");
    assertThat(s.get("handshake.timeout").get("source").asText()).isEqualTo("flag");
    assertThat(s.get("frame.max-bytes").get("source").asText()).isEqualTo("default");
    assertThat(s.get("log.level").get("value").asText()).isEqualTo("debug");
    assertThat(s.has("poll.server")).as("no default, not given").isFalse();
    for (Setting k : Setting.values()) {
      assertThat(k.defaultValue() == null || s.has(k.key())).as(k.key()).isTrue();
    }

    Path other = dir.resolve("other.properties");
    Files.writeString(other, "frame.max-bytes = 12\n");
    AgentCli.Run badValue =
        AgentCli.run(dir, "--home", home.toString(), "--config", other.toString(), "show-config");
    assertThat(badValue.exit()).as("%s", badValue).isEqualTo(Cli.USAGE);
    assertThat(badValue.err())
        .contains(other + ": key frame.max-bytes: must be 1024 to 2147483647 but was 12");

    Files.writeString(other, "frame.max-byte = 4096\nlisten.port=1\n");
    AgentCli.Run unknownKey =
        AgentCli.run(dir, "--home", home.toString(), "--config", other.toString(), "listen");
    assertThat(unknownKey.exit()).isEqualTo(Cli.USAGE);
    assertThat(unknownKey.err()).contains(other + ": unknown key frame.max-byte; known keys:");

    AgentCli.Run missing =
        AgentCli.run(dir, "--config", dir.resolve("nope").toString(), "show-config");
    assertThat(missing.exit()).isEqualTo(Cli.USAGE);
    assertThat(missing.err()).contains(dir.resolve("nope") + ": no such config file");

    Files.writeString(other, "listen.port = 1\n");
    Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rw-rw-rw-"));
    AgentCli.Run writable =
        AgentCli.run(dir, "--home", home.toString(), "--config", other.toString(), "show-config");
    assertThat(writable.exit()).isEqualTo(Cli.USAGE);
    assertThat(writable.err()).contains("other users can write this config file");
  }

  @Test
  void pollServersAreRepeatableAndABadOneIsNamed() throws Exception {
    Path home = Files.createDirectory(dir.resolve("home-poll"));
    Files.writeString(
        home.resolve("agent.properties"), "poll.server = 127.0.0.1:10943, [::1]:10944\n");
    AgentCli.Run r = AgentCli.run(dir, "--home", home.toString(), "show-config", "--json");
    assertThat(r.exit()).as("%s", r).isZero();
    JsonNode s = JSON.readTree(r.out()).get("settings");
    assertThat(s.get("poll.server").get("value").asText()).isEqualTo("127.0.0.1:10943,[::1]:10944");

    AgentCli.Run bad =
        AgentCli.run(
            dir,
            "--home",
            home.toString(),
            "poll",
            "--server",
            "127.0.0.1:10943",
            "--server",
            "node-b",
            "--subscription",
            "s");
    assertThat(bad.exit()).as("%s", bad).isEqualTo(Cli.USAGE);
    assertThat(bad.err()).contains("--server").contains("'node-b' is not HOST:PORT");
  }

  @Test
  void theHomeIsNeverTheCurrentDirectoryIsCreatedOwnerOnlyAndAnUnsafeOneIsRefused()
      throws Exception {
    // No --home: the platform default, here for this user, and nothing is created by show-config.
    Map<String, String> xdg = Map.of("XDG_DATA_HOME", dir.resolve("xdg").toString());
    Path expected =
        AgentHome.defaultHome(AgentHome.currentUid(), xdg, System.getProperty("user.home"));
    boolean existedBefore = Files.exists(expected);
    AgentCli.Run byDefault = AgentCli.run(dir, xdg, "show-config", "--json");
    assertThat(byDefault.exit()).as("%s", byDefault).isZero();
    assertThat(JSON.readTree(byDefault.out()).get("home").asText())
        .isEqualTo(expected.toString())
        .isNotEqualTo(dir.toString())
        .isNotEqualTo(dir.resolve("agent-home").toString());
    assertThat(expected).isAbsolute();
    assertThat(Files.exists(expected)).as("show-config creates nothing").isEqualTo(existedBefore);

    Path fromEnv = dir.resolve("env-home");
    AgentCli.Run env =
        AgentCli.run(dir, Map.of(AgentHome.ENV, fromEnv.toString()), "new-certificate");
    assertThat(env.exit()).as("%s", env).isZero();
    assertThat(fromEnv.resolve("certificate/certificate.pem")).exists();

    Path deep = dir.resolve("a/b/home");
    assertThat(AgentCli.run(dir, "--home", deep.toString(), "new-certificate").exit()).isZero();
    assertThat(mode(deep)).isEqualTo("rwx------");

    Path open = Files.createDirectory(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwx---"));
    AgentCli.Run refused = AgentCli.run(dir, "--home", open.toString(), "new-certificate");
    assertThat(refused.exit()).as("%s", refused).isEqualTo(Cli.USAGE);
    assertThat(refused.err()).contains("can be written by group or others").contains("chmod 700");
    assertThat(open.resolve("certificate")).doesNotExist();

    Path link = Files.createSymbolicLink(dir.resolve("link"), deep);
    AgentCli.Run linked = AgentCli.run(dir, "--home", link.toString(), "listen", "--port", "0");
    assertThat(linked.exit()).as("%s", linked).isEqualTo(Cli.USAGE);
    assertThat(linked.err()).contains("is a symbolic link");
  }

  static String mode(Path p) throws java.io.IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
