package io.workerpools.tentacle.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code show-config}: the home, the config file and every setting in force, with its source. */
@Command(
    name = "show-config",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the home, the config file read and every setting in force, each with where it came"
          + " from (default, file or flag), as 'key = value  # source' lines or as JSON. Flags of"
          + " listen and poll can be tried here too: show-config --port 10944. Creates nothing."
    })
final class ShowConfigCommand implements Callable<Integer> {
  @Mixin Invocation invocation;

  @Option(names = "--json", description = "print a JSON object")
  boolean json;

  @Override
  public Integer call() throws IOException {
    Settings s = invocation.settings();
    AgentHome.checkExisting(invocation.home());
    if (json) {
      StringWriter w = new StringWriter();
      try (JsonGenerator g = new JsonFactory().createGenerator(w)) {
        g.writeStartObject();
        g.writeStringField("home", invocation.home().toString());
        g.writeStringField("config", s.file() == null ? null : s.file().toString());
        g.writeObjectFieldStart("settings");
        for (Setting k : Setting.values()) {
          if (s.has(k)) {
            g.writeObjectFieldStart(k.key());
            g.writeStringField("value", s.text(k));
            g.writeStringField("source", s.source(k).name().toLowerCase(Locale.ROOT));
            g.writeEndObject();
          }
        }
        g.writeEndObject();
        g.writeEndObject();
      }
      invocation.out().println(w);
      return Cli.OK;
    }
    invocation.out().println("# home: " + invocation.home());
    invocation.out().println("# config: " + (s.file() == null ? "(none)" : s.file()));
    for (Setting k : Setting.values()) {
      if (s.has(k)) {
        invocation
            .out()
            .println(
                k.key() + " = " + s.text(k) + "  # " + s.source(k).name().toLowerCase(Locale.ROOT));
      } else {
        invocation.out().println("# " + k.key() + " (not set)");
      }
    }
    return Cli.OK;
  }
}
