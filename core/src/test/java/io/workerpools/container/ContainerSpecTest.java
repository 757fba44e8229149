package io.workerpools.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.transport.ScriptRequest;
import org.junit.jupiter.api.Test;

/** Bad container specs fail at build time, naming the field and what is allowed. */
class ContainerSpecTest {

  @Test
  void defaultsAreNoNetworkPullIfMissingAndTheWorkspace() {
    ContainerSpec s = ContainerSpec.of("debian:12");
    assertThat(s.network()).isEqualTo(ContainerSpec.NETWORK_NONE);
    assertThat(s.pullPolicy()).isEqualTo(ContainerSpec.PullPolicy.IF_MISSING);
    assertThat(s.workingDirectory()).isEqualTo("/workspace");
    assertThat(s.user()).isEmpty();
    assertThat(ContainerSpec.builder("x").hostNetwork().build().network()).isEqualTo("host");
  }

  @Test
  void anImageThatCouldBeAnOptionOrAShellWordIsRefused() {
    for (String bad : new String[] {"-v", "--privileged", "a b", "x;rm", "$(id)", "", "a/../b"}) {
      assertThatThrownBy(() -> ContainerSpec.of(bad))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("container.image")
          .hasMessageContaining("'" + bad + "'");
    }
  }

  @Test
  void badUsersPathsMountsLimitsNetworksAndLabelsNameTheirField() {
    assertThatThrownBy(() -> ContainerSpec.builder("i").user("root;id").build())
        .hasMessageContaining("container.user");
    assertThatThrownBy(() -> ContainerSpec.builder("i").workingDirectory("work").build())
        .hasMessageContaining("container.workingDirectory");
    assertThatThrownBy(() -> ContainerSpec.builder("i").mount("/a:/b", "/c", false).build())
        .hasMessageContaining("mounts.source");
    assertThatThrownBy(() -> ContainerSpec.builder("i").mount("/a", "/../etc", true).build())
        .hasMessageContaining("mounts.target");
    assertThatThrownBy(() -> ContainerSpec.builder("i").cpus(0).build())
        .hasMessageContaining("container.cpus");
    assertThatThrownBy(() -> ContainerSpec.builder("i").memoryBytes(1024).build())
        .hasMessageContaining("container.memoryBytes")
        .hasMessageContaining("6 MiB");
    assertThatThrownBy(() -> ContainerSpec.builder("i").network("--net=host").build())
        .hasMessageContaining("container.network");
    assertThatThrownBy(
            () -> ContainerSpec.builder("i").label("io.workerpools.execution", "x").build())
        .hasMessageContaining("container.labels");
  }

  @Test
  void aContainerCannotBeCombinedWithRunAsUser() {
    assertThatThrownBy(
            () ->
                ScriptRequest.builder(ScriptSyntax.BASH, "true")
                    .runAsUser("deploy")
                    .container(ContainerSpec.of("i"))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("runAsUser");
  }
}
