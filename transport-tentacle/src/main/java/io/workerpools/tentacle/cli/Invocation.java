package io.workerpools.tentacle.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.event.Level;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * What every subcommand needs (a picocli mixin): its home, its settings (the config file and the
 * flags, with the logs configured from them), and its output streams.
 */
@Command
final class Invocation {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  private Path home;
  private Settings settings;

  CommandSpec spec() {
    return spec;
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** The scope of settings a command takes, by its name. */
  static Setting.Scope scopeOf(String command) {
    return switch (command) {
      case "listen" -> Setting.Scope.LISTEN;
      case "poll" -> Setting.Scope.POLL;
      case "show-config" -> Setting.Scope.EVERY;
      default -> Setting.Scope.ALL;
    };
  }

  private AgentCommand root() {
    return (AgentCommand) spec.root().userObject();
  }

  /** The home (given or default), checked by nothing yet. */
  Path home() {
    if (home == null) {
      try {
        home = AgentHome.resolve(root().home);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return home;
  }

  /** The home, created 0700 if missing, refused if unsafe. */
  Path prepareHome() {
    settings();
    return AgentHome.prepare(home());
  }

  /**
   * The settings in force: the flags given over the config file over the defaults; configures the
   * log output from them.
   */
  Settings settings() {
    if (settings == null) {
      Path file = root().config;
      Map<String, String> fileValues;
      if (file != null) {
        file = file.toAbsolutePath().normalize();
        fileValues = Settings.read(file, true);
      } else {
        file = home().resolve(Settings.FILE_NAME);
        fileValues = Settings.read(file, false);
        if (fileValues.isEmpty()) {
          file = null;
        }
      }
      Map<Setting, String> flags = new EnumMap<>(Setting.class);
      Setting.Scope scope = scopeOf(spec.name());
      for (Setting s : Setting.values()) {
        if (s.scope().appliesTo(scope)) {
          String v = flag(spec.commandLine().getParseResult(), s);
          if (v == null && s.scope() == Setting.Scope.ALL) {
            v = flag(spec.root().commandLine().getParseResult(), s);
          }
          if (v != null) {
            flags.put(s, v);
          }
        }
      }
      settings = Settings.resolve(file, fileValues, flags);
      AgentLog.configure(
          Level.valueOf(settings.text(Setting.LOG_LEVEL).toUpperCase(Locale.ROOT)),
          settings.text(Setting.LOG_FORMAT));
    }
    return settings;
  }

  private static String flag(ParseResult parsed, Setting s) {
    if (parsed == null) {
      return null;
    }
    OptionSpec o = parsed.matchedOption(s.flag());
    if (o == null) {
      return null;
    }
    Object v = o.getValue();
    if (v instanceof List<?> l) {
      return String.join(",", l.stream().map(Object::toString).toList());
    }
    return v == null ? null : v.toString();
  }
}
