package io.workerpools.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.config.FileShape.EndpointModel;
import io.workerpools.config.FileShape.FileModel;
import io.workerpools.config.FileShape.PoolModel;
import io.workerpools.config.FileShape.WorkerModel;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * Reads an {@link Infrastructure} (pools, workers with their endpoints, the default pool, the
 * built-in worker switch) from JSON or YAML, and writes one back. The file's shape:
 *
 * <pre>{@code
 * defaultPool: default            # or mark one pool "default: true"
 * builtInWorkerEnabled: true      # optional, true when left out
 * pools:
 *   - id: default
 *     name: Default Worker Pool
 *   - id: linux
 *     name: Linux
 *     description: build agents
 * workers:
 *   - id: build-1
 *     name: Build 1               # optional, the id when left out
 *     endpoint: {kind: ssh, address: "build-1.internal:22", properties: {user: deploy}}
 *     pools: [linux]
 *     syntaxes: [bash, python]    # optional, [bash] when left out
 *     maxConcurrentSteps: 4       # optional, no cap when left out
 *     enabled: true               # optional
 *     labels: {rack: r1}          # optional
 * }</pre>
 *
 * <p>Every error is a {@link ConfigurationException} whose {@link ConfigurationException#field()}
 * is the path of the offending field (for example {@code workers[2].pools[0]}) and whose message
 * says what was given, what is allowed, and the line in the file. Unknown fields are rejected (a
 * typo in {@code maxConcurentSteps} must not silently mean "no cap"); so are duplicate keys.
 *
 * <p>No polymorphic typing: the file cannot name Java classes. Stateless and thread-safe.
 *
 * <p>YAML needs SnakeYAML (and {@code jackson-dataformat-yaml}) on the classpath: optional
 * dependencies. Without them JSON works and YAML fails with a {@link ConfigurationException} saying
 * which dependency to add.
 *
 * <p>How it is made: {@link FileShape} (the file's records), {@link SourceLines} (the line of each
 * field), {@link JacksonProblems} (the parser's problems in the user's words), {@link ModelMapping}
 * (records to the model, naming fields as the file does).
 */
public final class InfrastructureLoader {

  /** The two formats. YAML 1.1 also reads JSON documents. */
  public enum Format {
    JSON,
    YAML;

    /** {@code .json} is JSON; {@code .yaml}, {@code .yml} and anything else are read as YAML. */
    public static Format of(Path file) {
      String name = file.getFileName() == null ? "" : file.getFileName().toString();
      return name.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
    }
  }

  /** SnakeYAML's default limit on a document's size, in code points (3 MiB). */
  static final int MAX_YAML_CODE_POINTS = 3 * 1024 * 1024;

  private InfrastructureLoader() {}

  /** Loads a file; its format is chosen by {@link Format#of(Path)}. */
  public static Infrastructure load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new ConfigurationException(
          "file", "'" + file + "' is not UTF-8 text; save it as UTF-8 (JSON and YAML are)", e);
    } catch (IOException e) {
      throw new ConfigurationException("file", "cannot read '" + file + "': " + e.getMessage(), e);
    }
    return parse(text, Format.of(file), file.getFileName() == null ? "" : file.toString());
  }

  /** Parses text in the given format. */
  public static Infrastructure parse(String text, Format format) {
    return parse(text, format, "");
  }

  /**
   * Parses text in the given format; {@code source} (a file name, may be empty) is named in errors.
   *
   * @throws ConfigurationException for every mistake in the text, and for YAML when SnakeYAML is
   *     not on the classpath
   */
  public static Infrastructure parse(String text, Format format, String source) {
    SourceLines lines = new SourceLines(source);
    if (text == null || text.isBlank()) {
      throw new ConfigurationException("(document)", "is empty" + lines.at(null));
    }
    ObjectMapper mapper = Mappers.of(format);
    if (format == Format.YAML
        && text.length() > MAX_YAML_CODE_POINTS
        && text.codePointCount(0, text.length()) > MAX_YAML_CODE_POINTS) {
      // Checked up front: the parser would read (slowly) up to its limit before saying so.
      throw new ConfigurationException(
          "(document)",
          "is larger than the YAML parser's limit of "
              + MAX_YAML_CODE_POINTS
              + " characters"
              + lines.at(null)
              + ". Split the file, or write it as JSON, which has no such limit");
    }
    FileModel model;
    try {
      lines.index(mapper, text);
      model = mapper.readValue(text, FileModel.class);
    } catch (IOException e) {
      throw JacksonProblems.translate(e, format, lines);
    }
    if (model == null) {
      throw new ConfigurationException("(document)", "is empty" + lines.at(null));
    }
    return new ModelMapping(lines).build(model);
  }

  /**
   * Writes an infrastructure in the given format; {@link #parse} reads it back equal.
   *
   * @throws ConfigurationException for YAML when SnakeYAML is not on the classpath
   */
  public static String write(Infrastructure infrastructure, Format format) {
    List<PoolModel> pools = new ArrayList<>();
    for (WorkerPool p : infrastructure.pools().values()) {
      pools.add(new PoolModel(p.id().value(), p.name(), emptyToNull(p.description()), null));
    }
    List<WorkerModel> workers = new ArrayList<>();
    for (Worker w : infrastructure.workers().values()) {
      List<String> syntaxes = new ArrayList<>();
      for (ScriptSyntax s : ScriptSyntax.values()) {
        if (w.canRun(s)) {
          syntaxes.add(s.name().toLowerCase(Locale.ROOT));
        }
      }
      List<String> poolIds = new ArrayList<>();
      w.pools().stream().sorted().forEach(p -> poolIds.add(p.value()));
      Endpoint e = w.endpoint();
      workers.add(
          new WorkerModel(
              w.id().value(),
              w.name(),
              new EndpointModel(e.kind(), emptyToNull(e.address()), new TreeMap<>(e.properties())),
              poolIds,
              w.enabled() ? null : Boolean.FALSE,
              syntaxes,
              w.maxConcurrentSteps().isPresent() ? w.maxConcurrentSteps().getAsInt() : null,
              new TreeMap<>(w.labels())));
    }
    FileModel m =
        new FileModel(
            infrastructure.defaultPool().value(),
            infrastructure.builtInWorkerEnabled(),
            pools,
            workers);
    try {
      return Mappers.of(format).writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new WorkerPoolsException("cannot write the infrastructure as " + format, e);
    }
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
