package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** How the container transport builds the CLI's argv, for any arguments and environment. */
class ContainerCommandProperties {
  private static ContainerTransport transport;
  private static final Worker WORKER =
      ContainerTransport.worker("w", "registry.example/app:1.0").pool("default").build();

  @BeforeContainer
  static void start() {
    transport = ContainerTransport.builder().cli("docker").build();
  }

  @AfterContainer
  static void stop() {
    transport.close();
  }

  @Property(tries = 200)
  void argumentsEndTheArgvVerbatimOneItemEachAndTheScriptAndSecretValuesNeverAppear(
      @ForAll @Size(max = 6) List<@StringLength(max = 20) String> arguments,
      @ForAll @Size(max = 4)
          Map<@AlphaChars @StringLength(min = 1, max = 8) String, @StringLength(max = 12) String>
              env,
      @ForAll @StringLength(max = 40) String bodyTail) {
    String body = "# script-body-marker\n" + bodyTail;
    ScriptRequest.Builder b = ScriptRequest.builder(ScriptSyntax.BASH, body);
    arguments.forEach(b::argument);
    env.forEach((k, v) -> b.sensitiveEnv("WP_" + k, "secret-value-" + v));
    ScriptRequest request = b.build();

    List<String> argv = transport.runCommand(WORKER, request, "wp-x", Path.of("/tmp/wp-x"));

    int image = argv.indexOf("registry.example/app:1.0");
    assertThat(image).isPositive();
    assertThat(argv.subList(image + 1, argv.size()))
        .containsExactlyElementsOf(concat(List.of("bash", "-s", "--"), request.arguments()));
    List<String> options = argv.subList(0, image);
    assertThat(options).noneMatch(a -> a.contains("script-body-marker"));
    assertThat(options).noneMatch(a -> a.contains("secret-value-"));
    for (String name : request.environment().keySet()) {
      int at = options.indexOf(name);
      assertThat(at).as("variable %s is named", name).isPositive();
      assertThat(options.get(at - 1)).isEqualTo("-e");
    }
    assertThat(argv).noneMatch(a -> a.contains("script-body-marker"));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }
}
