package io.workerpools.tentacle.cli;

import io.workerpools.tentacle.AgentTrust;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code configure}: the host thumbprints stored in the agent's home (Tentacle's name). */
@Command(
    name = "configure",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Adds or removes host thumbprints the agent trusts, stored in HOME/trusted-hosts. A running"
          + " agent applies the change without a restart: its next handshake uses the new set,"
          + " and a removed host's open connections are cut within about a second.",
      "Without options, prints the stored thumbprints, one a line."
    })
final class ConfigureCommand implements Callable<Integer> {
  @Mixin Invocation invocation;

  @Option(
      names = "--trust",
      paramLabel = "THUMBPRINT",
      description = "trust this host's certificate thumbprint (repeatable)")
  List<String> trust = new ArrayList<>();

  @Option(
      names = "--remove-trust",
      paramLabel = "THUMBPRINT",
      description = "stop trusting this host; its open connections are cut (repeatable)")
  List<String> remove = new ArrayList<>();

  @Option(names = "--reset-trust", description = "remove every stored thumbprint first")
  boolean reset;

  @Override
  public Integer call() {
    Path home = invocation.prepareHome();
    AgentTrust stored = AgentTrust.of(home);
    if (reset) {
      for (String t : stored.thumbprints()) {
        stored.remove(t);
        invocation.out().println("removed " + t);
      }
    }
    for (String t : trust) {
      boolean added = stored.add(t);
      invocation.out().println((added ? "trusted " : "already trusted ") + norm(t));
    }
    for (String t : remove) {
      boolean removed = stored.remove(t);
      invocation.out().println((removed ? "removed " : "was not trusted: ") + norm(t));
    }
    if (trust.isEmpty() && remove.isEmpty() && !reset) {
      Set<String> all = stored.thumbprints();
      all.stream().sorted().forEach(invocation.out()::println);
      if (all.isEmpty()) {
        invocation.err().println("no stored thumbprints in " + stored.file());
      }
    }
    return Cli.OK;
  }

  private static String norm(String t) {
    return io.workerpools.tentacle.TentacleCertificate.normalizeThumbprint("--trust", t);
  }
}
