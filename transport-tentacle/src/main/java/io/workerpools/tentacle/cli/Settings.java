package io.workerpools.tentacle.cli;

import io.workerpools.ConfigurationException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings in force for one command: each value from its flag if given, else from the config
 * file, else its default. Immutable. Errors name the flag, or the key and the file.
 */
public final class Settings {
  /** The config file's name in the agent's home, read when {@code --config} is not given. */
  public static final String FILE_NAME = "agent.properties";

  /** The largest config file read. */
  static final long MAX_FILE_BYTES = 1024 * 1024;

  /** Where a value came from. */
  public enum Source {
    DEFAULT,
    FILE,
    FLAG
  }

  private final Map<Setting, Object> values;
  private final Map<Setting, String> texts;
  private final Map<Setting, Source> sources;
  private final Path file;

  private Settings(
      Map<Setting, Object> values,
      Map<Setting, String> texts,
      Map<Setting, Source> sources,
      Path file) {
    this.values = Collections.unmodifiableMap(values);
    this.texts = Collections.unmodifiableMap(texts);
    this.sources = Collections.unmodifiableMap(sources);
    this.file = file;
  }

  /**
   * Resolves every setting.
   *
   * @param file the config file read, or null when there is none
   * @param fileValues its entries (key to text)
   * @param flags the flags given (text as typed; a repeatable flag's values joined by commas)
   * @throws ConfigurationException naming the key and the file, or the flag, for an unknown key or
   *     a bad value
   */
  static Settings resolve(Path file, Map<String, String> fileValues, Map<Setting, String> flags) {
    Set<String> unknown = new TreeSet<>();
    for (String key : fileValues.keySet()) {
      if (Setting.byKey(key) == null) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      List<String> known = new ArrayList<>();
      for (Setting s : Setting.values()) {
        known.add(s.key());
      }
      throw new ConfigurationException(
          String.valueOf(file),
          "unknown key"
              + (unknown.size() > 1 ? "s " : " ")
              + String.join(", ", unknown)
              + "; known keys: "
              + String.join(", ", known));
    }
    Map<Setting, Object> values = new EnumMap<>(Setting.class);
    Map<Setting, String> texts = new EnumMap<>(Setting.class);
    Map<Setting, Source> sources = new EnumMap<>(Setting.class);
    for (Setting s : Setting.values()) {
      String flag = flags.get(s);
      String inFile = fileValues.get(s.key());
      String text;
      if (flag != null) {
        values.put(s, parse(s, flag, s.flag()));
        sources.put(s, Source.FLAG);
        text = flag;
      } else if (inFile != null) {
        values.put(s, parse(s, inFile, file + ": key " + s.key()));
        sources.put(s, Source.FILE);
        text = inFile;
      } else if (s.defaultValue() != null) {
        values.put(s, s.parse(s.defaultValue()));
        sources.put(s, Source.DEFAULT);
        text = s.defaultValue();
      } else {
        continue;
      }
      Object v = values.get(s);
      texts.put(
          s,
          v instanceof List<?> l
              ? String.join(",", l.stream().map(Object::toString).toList())
              : v instanceof String str ? str : text.strip());
    }
    return new Settings(values, texts, sources, file);
  }

  private static Object parse(Setting s, String value, String where) {
    try {
      return s.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(where, e.getMessage());
    }
  }

  /**
   * Reads a config file: Java properties ({@code key = value}, {@code #} comments), UTF-8. A file
   * that group or others may write is refused (they could make the agent trust their host).
   *
   * @param required if false, a missing file reads as empty
   * @throws ConfigurationException naming the file when it cannot be read or is unsafe
   */
  static Map<String, String> read(Path file, boolean required) {
    try {
      if (!required && Files.notExists(file, LinkOption.NOFOLLOW_LINKS)) {
        return Map.of();
      }
      PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
      if (view != null) {
        Set<PosixFilePermission> p = view.readAttributes().permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE)
            || p.contains(PosixFilePermission.OTHERS_WRITE)) {
          throw new ConfigurationException(
              file.toString(),
              "other users can write this config file; run 'chmod go-w " + file + "'");
        }
      }
      if (!Files.isRegularFile(file)) {
        throw new ConfigurationException(file.toString(), "is not a regular file");
      }
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ConfigurationException(
            file.toString(), "is larger than " + MAX_FILE_BYTES + " bytes: not a config file");
      }
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (String k : p.stringPropertyNames()) {
        out.put(k, p.getProperty(k));
      }
      return out;
    } catch (NoSuchFileException e) {
      throw new ConfigurationException(file.toString(), "no such config file");
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigurationException(file.toString(), "cannot read the config file: " + e, e);
    }
  }

  /** The config file read, or null. */
  public Path file() {
    return file;
  }

  /** Where the value of {@code s} came from; null when it has none. */
  public Source source(Setting s) {
    return sources.get(s);
  }

  /** True if {@code s} has a value (a default, or one given). */
  public boolean has(Setting s) {
    return values.containsKey(s);
  }

  /** The value as given (a list comma-separated, normalised); null when it has none. */
  public String text(Setting s) {
    return texts.get(s);
  }

  /** An integer setting's value. */
  public int integer(Setting s) {
    return (Integer) values.get(s);
  }

  /** A duration setting's value. */
  public Duration duration(Setting s) {
    return (Duration) values.get(s);
  }

  /** A list setting's values. */
  @SuppressWarnings("unchecked")
  public List<String> list(Setting s) {
    return (List<String>) values.get(s);
  }
}
