package io.workerpools.local;

import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM by {@link LocalEnvironmentTest}, whose environment holds a secret: runs one
 * script per case on a real transport and prints, per case, every variable the script's process
 * started with and those of the process that started it ({@code case|self|NAME=value}, {@code
 * case|parent|NAME=value}), then {@code case|result|outcome exit}.
 *
 * <p>Arguments: the base directory, then the name of a user to run one case as.
 */
public final class EnvProbeMain {
  private EnvProbeMain() {}

  public static void main(String[] args) {
    Path base = Path.of(args[0]);
    String otherUser = args[1];
    probe("default", LocalProcessTransport.builder().baseDirectory(base), null);
    for (StartMode mode : StartMode.values()) {
      probe(mode.name(), LocalProcessTransport.builder().baseDirectory(base).startMode(mode), null);
      probe(
          mode.name() + "-inherit",
          LocalProcessTransport.builder()
              .baseDirectory(base)
              .startMode(mode)
              .inheritEnvironment(true),
          null);
      probe(
          mode.name() + "-inherit-as-other-user",
          LocalProcessTransport.builder()
              .baseDirectory(base)
              .startMode(mode)
              .inheritEnvironment(true),
          otherUser);
    }
    System.out.flush();
  }

  private static void probe(String name, LocalProcessTransport.Builder b, String user) {
    try (LocalProcessTransport t = b.build()) {
      ScriptRequest.Builder r =
          ScriptRequest.builder(
                  ScriptSyntax.BASH,
                  "tr '\\0' '\\n' < /proc/$$/environ | sed 's/^/self|/';"
                      + " tr '\\0' '\\n' < /proc/$PPID/environ 2>/dev/null | sed 's/^/parent|/'")
              .env("STEP_VAR", "from-the-step");
      if (user != null) {
        r.runAsUser(user);
      }
      CollectingSink sink = new CollectingSink();
      ScriptResult res =
          t.start(Worker.BUILT_IN, r.build(), sink)
              .result()
              .toCompletableFuture()
              .orTimeout(60, TimeUnit.SECONDS)
              .join();
      for (String line : sink.stdout()) {
        System.out.println(name + "|" + line);
      }
      System.out.println(
          name
              + "|result|"
              + res.outcome()
              + " "
              + res.exitCode().orElse(-1)
              + " "
              + res.message());
    }
  }
}
