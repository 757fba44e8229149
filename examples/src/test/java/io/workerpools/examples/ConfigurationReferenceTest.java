package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.health.HealthMonitor;
import io.workerpools.health.HealthPolicy;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.ssh.SshEndpoint;
import io.workerpools.ssh.SshTransport;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's "Configuration reference" names everything the code accepts: each field of the
 * infrastructure file, each SSH and Tentacle endpoint property, each option of the builders a host
 * configures. Read from the code by reflection, so a new option fails this test until documented.
 */
class ConfigurationReferenceTest {
  private static String reference;

  @BeforeAll
  static void readReference() throws Exception {
    String readme = Files.readString(Path.of("../README.md"));
    int start = readme.indexOf("## Configuration reference");
    assertThat(start).as("the README has a Configuration reference section").isPositive();
    int end = readme.indexOf("\n## ", start + 1);
    reference = readme.substring(start, end < 0 ? readme.length() : end);
  }

  private static void assertDocumented(String what, Set<String> names) {
    List<String> missing = new ArrayList<>();
    for (String n : names) {
      if (!Pattern.compile("`" + Pattern.quote(n) + "(`|\\(|\\b)").matcher(reference).find()) {
        missing.add(n);
      }
    }
    assertThat(missing).as(what + " not named in the Configuration reference").isEmpty();
  }

  @Test
  void everyFieldOfTheInfrastructureFileIsDocumentedWithItsPath() throws Exception {
    Set<String> paths = new TreeSet<>();
    paths.addAll(fieldsOf("FileShape$FileModel", ""));
    paths.addAll(fieldsOf("FileShape$PoolModel", "pools[]."));
    paths.addAll(fieldsOf("FileShape$WorkerModel", "workers[]."));
    paths.addAll(fieldsOf("FileShape$EndpointModel", "workers[].endpoint."));
    assertThat(paths).contains("pools[].default", "workers[].maxConcurrentSteps");
    List<String> missing = new ArrayList<>();
    for (String p : paths) {
      if (!reference.contains("| `" + p + "` |")) {
        missing.add(p);
      }
    }
    assertThat(missing).as("file fields without a row in the table").isEmpty();
  }

  private static List<String> fieldsOf(String nested, String prefix) throws Exception {
    Class<?> c = Class.forName("io.workerpools.config." + nested);
    List<String> out = new ArrayList<>();
    for (RecordComponent rc : c.getRecordComponents()) {
      JsonProperty renamed = rc.getAccessor().getAnnotation(JsonProperty.class);
      out.add(prefix + (renamed != null ? renamed.value() : rc.getName()));
    }
    return out;
  }

  @Test
  void everyScriptSyntaxIsDocumented() {
    Set<String> names = new TreeSet<>();
    for (ScriptSyntax s : ScriptSyntax.values()) {
      names.add(s.name().toLowerCase(Locale.ROOT));
    }
    assertDocumented("script syntaxes", names);
  }

  @Test
  void everySshEndpointPropertyAndPolicyValueIsDocumented() throws Exception {
    Field known = SshEndpoint.class.getDeclaredField("KNOWN_PROPERTIES");
    known.setAccessible(true);
    @SuppressWarnings("unchecked")
    Set<String> properties = new TreeSet<>((Set<String>) known.get(null));
    assertThat(properties).contains(SshEndpoint.KNOWN_HOSTS, SshEndpoint.HOST_KEY_POLICY);
    assertDocumented("SSH endpoint properties", properties);
    assertDocumented(
        "SSH host key policies", Set.of(SshEndpoint.STRICT, SshEndpoint.INSECURE_ACCEPT_NEW));
  }

  @Test
  void everyEndpointKindAndTheTentaclePropertyAreDocumented() {
    assertDocumented(
        "endpoint kinds",
        Set.of(
            Endpoint.LOCAL,
            SshEndpoint.KIND,
            TentacleTransport.LISTENING,
            TentacleTransport.POLLING));
    assertDocumented("Tentacle endpoint property", Set.of("thumbprint"));
    assertThat(reference).contains("port " + TentacleTransport.DEFAULT_AGENT_PORT + " if left out");
  }

  @Test
  void everyOptionOfTheBuildersAHostConfiguresIsDocumented() {
    for (Class<?> builder :
        List.of(
            WorkerPools.Builder.class,
            HealthPolicy.Builder.class,
            Step.Builder.class,
            StepRequirements.Builder.class,
            ScriptRequest.Builder.class,
            LocalProcessTransport.Builder.class,
            SshTransport.Builder.class,
            TentacleTransport.Builder.class)) {
      Set<String> options = new TreeSet<>();
      for (Method m : builder.getDeclaredMethods()) {
        if (Modifier.isPublic(m.getModifiers())
            && !Modifier.isStatic(m.getModifiers())
            && !m.getName().equals("build")) {
          options.add(m.getName());
        }
      }
      assertThat(options).as(builder.getName()).isNotEmpty();
      assertDocumented(builder.getName(), options);
    }
  }

  @Test
  void theDocumentedDefaultsAreTheCodesDefaults() {
    HealthPolicy d = HealthPolicy.defaults();
    assertThat(d.interval()).isEqualTo(java.time.Duration.ofMinutes(1));
    assertThat(reference)
        .contains("| `interval` | 1 min |")
        .contains("| `timeout` | " + d.timeout().toSeconds() + " s |")
        .contains("| `failuresBeforeUnavailable` | " + d.failuresBeforeUnavailable() + " |")
        .contains("| `jitter` | " + d.jitter() + " |")
        .contains("| `healthMaxInFlight` | " + HealthMonitor.DEFAULT_MAX_IN_FLIGHT + " |")
        .contains(
            "| `nodeId` | `" + WorkerPools.DEFAULT_NODE_ID_PREFIX + "` + 12 random hex digits |")
        .contains(
            "| `leaseTtl` | "
                + io.workerpools.resolve.WorkerResolver.DEFAULT_LEASE_TTL.toSeconds()
                + " s |")
        .contains("| `closeTimeout` | " + WorkerPools.DEFAULT_CLOSE_TIMEOUT.toSeconds() + " s |")
        .contains("`maxChannelsPerWorker` (" + SshTransport.DEFAULT_MAX_CHANNELS_PER_WORKER + ", ")
        .contains("`connectTimeout` (" + SshTransport.DEFAULT_CONNECT_TIMEOUT.toSeconds() + " s)")
        .contains(
            "`keepAliveInterval` (" + SshTransport.DEFAULT_KEEP_ALIVE_INTERVAL.toSeconds() + " s)")
        .contains("`maxLineBytes` " + LocalProcessTransport.DEFAULT_MAX_LINE_BYTES / 1024 + " KiB");
  }
}
