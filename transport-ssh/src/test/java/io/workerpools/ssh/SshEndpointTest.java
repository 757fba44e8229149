package io.workerpools.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import java.util.HashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Parsing and validating SSH endpoints. */
class SshEndpointTest {
  private static final String FP = "SHA256:" + "A".repeat(43);

  private static Endpoint ep(String address, Map<String, String> props) {
    return Endpoint.of("ssh", address, props);
  }

  private static Map<String, String> base() {
    Map<String, String> m = new HashMap<>();
    m.put("user", "deploy");
    m.put("credentials", "deploy-key");
    m.put("knownHosts", "known_hosts");
    return m;
  }

  @Test
  void parsesHostPortAndProperties() {
    SshEndpoint e = SshEndpoint.parse(ep("build-7.example:2222", base()));
    assertThat(e.host()).isEqualTo("build-7.example");
    assertThat(e.port()).isEqualTo(2222);
    assertThat(e.user()).isEqualTo("deploy");
    assertThat(e.acceptNewHostKeys()).isFalse();
    assertThat(SshEndpoint.parse(ep("[::1]:22", base())).host()).isEqualTo("::1");
    assertThat(SshEndpoint.parse(ep("h", base())).port()).isEqualTo(22);
  }

  @Test
  void theHostKeyIsAlwaysVerified() {
    Map<String, String> m = base();
    m.remove("knownHosts");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h:22", m)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("knownHosts")
        .hasMessageContaining("hostKey")
        .hasMessageContaining("always verified");
    m.put("hostKey", FP);
    m.put("knownHosts", "k");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h:22", m))).hasMessageContaining("exactly one");
  }

  @Test
  void badValuesGetSpecificErrors() {
    Map<String, String> m = base();
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h:99999", m)))
        .hasMessageContaining("between 1 and 65535");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h:x", m)))
        .hasMessageContaining("'x' is not a number");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("::1:22", m)))
        .hasMessageContaining("[addr]:port");
    m.put("hostKeyPolicy", "accept-all");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h", m)))
        .hasMessageContaining("'accept-all' is not a policy")
        .hasMessageContaining(SshEndpoint.INSECURE_ACCEPT_NEW);
    Map<String, String> u = base();
    u.put("user", "root; rm -rf /");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h", u)))
        .hasMessageContaining("not a valid login name");
    Map<String, String> typo = base();
    typo.put("knwonHosts", "x");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h", typo)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("endpoint.properties.knwonHosts")
        .hasMessageContaining("unknown SSH endpoint property");
    Map<String, String> pin = base();
    pin.remove("knownHosts");
    pin.put("hostKey", "ssh-ed25519 not-base64!");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h", pin))).hasMessageContaining("hostKey");
    Map<String, String> tofu = base();
    tofu.remove("knownHosts");
    tofu.put("hostKey", FP);
    tofu.put("hostKeyPolicy", SshEndpoint.INSECURE_ACCEPT_NEW);
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h", tofu)))
        .hasMessageContaining("needs 'knownHosts'");
    Map<String, String> max = base();
    max.put("maxChannels", "1");
    assertThatThrownBy(() -> SshEndpoint.parse(ep("h", max))).hasMessageContaining("at least 2");
    assertThatThrownBy(() -> SshEndpoint.parse(Endpoint.of("tentacle-listening", "h")))
        .hasMessageContaining("not an SSH endpoint");
  }

  @Property(tries = 50)
  void toEndpointThenParseGivesTheSameEndpoint(
      @ForAll @IntRange(min = 1, max = 65535) int port,
      @ForAll boolean pinned,
      @ForAll boolean ipv6) {
    Map<String, String> m = base();
    if (pinned) {
      m.remove("knownHosts");
      m.put("hostKey", FP);
    } else {
      m.put("hostKeyPolicy", SshEndpoint.INSECURE_ACCEPT_NEW);
    }
    String host = ipv6 ? "[fe80::1]" : "10.0.0.7";
    SshEndpoint e = SshEndpoint.parse(ep(host + ":" + port, m));
    assertThat(SshEndpoint.parse(e.toEndpoint())).isEqualTo(e);
  }
}
