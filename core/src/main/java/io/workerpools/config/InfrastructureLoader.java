package io.workerpools.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

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

  private static final ObjectMapper JSON =
      configure(JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());
  private static final ObjectMapper YAML =
      configure(
          YAMLMapper.builder(
                  YAMLFactory.builder()
                      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                      .build())
              .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
              .build());

  private static ObjectMapper configure(ObjectMapper m) {
    return m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(SerializationFeature.INDENT_OUTPUT)
        .setSerializationInclusion(JsonInclude.Include.NON_EMPTY);
  }

  /**
   * What an endpoint kind looks like: a lower-case name ({@code ssh}, {@code tentacle-polling}).
   */
  private static final java.util.regex.Pattern KIND =
      java.util.regex.Pattern.compile("[a-z][a-z0-9._-]*");

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
   */
  public static Infrastructure parse(String text, Format format, String source) {
    ObjectMapper mapper = format == Format.JSON ? JSON : YAML;
    Lines lines = new Lines(source);
    if (text == null || text.isBlank()) {
      throw new ConfigurationException("(document)", "is empty" + lines.at(null));
    }
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
    } catch (UnrecognizedPropertyException e) {
      String field = path(e);
      throw new ConfigurationException(
          field,
          "unknown field '"
              + e.getPropertyName()
              + "'; known fields: "
              + new java.util.TreeSet<>(
                  e.getKnownPropertyIds().stream().map(String::valueOf).toList())
              + lines.best(field, e.getLocation()),
          e);
    } catch (MismatchedInputException e) {
      String field = path(e);
      if (field.isEmpty() && String.valueOf(e.getOriginalMessage()).startsWith("No content")) {
        throw new ConfigurationException("(document)", "is empty" + lines.at(null), e);
      }
      throw new ConfigurationException(
          field.isEmpty() ? "(document)" : field,
          mismatch(e) + lines.best(field, e.getLocation()),
          e);
    } catch (JsonMappingException e) {
      String field = path(e);
      throw new ConfigurationException(
          field.isEmpty() ? "(document)" : field,
          firstLine(e.getOriginalMessage()) + lines.best(field, e.getLocation()),
          e);
    } catch (JsonProcessingException e) {
      String why = syntaxError(e.getOriginalMessage());
      if (why.contains("exceeds the limit")) {
        why += " Split the file, or write it as JSON, which has no such limit";
      }
      throw new ConfigurationException(
          "(document)", "not valid " + format + ": " + why + lines.at(problemAt(e)), e);
    } catch (IOException e) {
      throw new ConfigurationException("(document)", "cannot be read: " + e.getMessage(), e);
    }
    if (model == null) {
      throw new ConfigurationException("(document)", "is empty" + lines.at(null));
    }
    return new Builder(lines).build(model);
  }

  /** Writes an infrastructure in the given format; {@link #parse} reads it back equal. */
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
      return (format == Format.JSON ? JSON : YAML).writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write infrastructure", e);
    }
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "invalid value";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /**
   * A parser's message without the source snippets YAML adds (indented lines, "in 'reader'"), so
   * that "found character '\t' that cannot start any token" is kept on one line.
   */
  private static String syntaxError(String message) {
    if (message == null) {
      return "invalid syntax";
    }
    List<String> kept = new ArrayList<>();
    for (String l : message.split("\r?\n")) {
      String t = l.strip();
      if (t.isEmpty() || Character.isWhitespace(l.charAt(0)) || t.startsWith("in 'reader'")) {
        continue;
      }
      kept.add(t.replaceAll(" in 'reader', line \\d+, column \\d+:?$", ""));
    }
    return kept.isEmpty() ? firstLine(message) : String.join("; ", kept);
  }

  /** Where YAML saw the problem (not where the construct it was reading began). */
  private static JsonLocation problemAt(JsonProcessingException e) {
    if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException) {
      org.yaml.snakeyaml.error.Mark m =
          ((org.yaml.snakeyaml.error.MarkedYAMLException) e.getCause()).getProblemMark();
      if (m != null) {
        return new JsonLocation(null, -1, m.getLine() + 1, m.getColumn() + 1);
      }
    }
    return e.getLocation();
  }

  /** "expected a whole number but got 'four'", instead of Jackson's words about Java types. */
  private static String mismatch(MismatchedInputException e) {
    Class<?> t = e.getTargetType();
    String expected;
    if (t == null) {
      return firstLine(e.getOriginalMessage());
    } else if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
      expected = "a whole number";
    } else if (t == Boolean.class || t == boolean.class) {
      expected = "true or false";
    } else if (t == String.class) {
      expected = "text";
    } else if (java.util.Collection.class.isAssignableFrom(t)) {
      expected = "a list, like [a, b]";
    } else if (Map.class.isAssignableFrom(t)) {
      expected = "a mapping of names to text, like {key: value}";
    } else if (t == PoolModel.class) {
      expected = "a pool, like {id: linux, name: Linux}";
    } else if (t == WorkerModel.class) {
      expected = "a worker, like {id: w1, endpoint: {kind: ssh, address: host}, pools: [linux]}";
    } else if (t == EndpointModel.class) {
      expected = "an endpoint, like {kind: ssh, address: host, properties: {user: deploy}}";
    } else if (t == FileModel.class) {
      expected = "a mapping with defaultPool, pools and workers";
    } else {
      return firstLine(e.getOriginalMessage());
    }
    return "expected " + expected + " but got " + given(e);
  }

  private static String given(MismatchedInputException e) {
    if (e instanceof com.fasterxml.jackson.databind.exc.InvalidFormatException) {
      Object v = ((com.fasterxml.jackson.databind.exc.InvalidFormatException) e).getValue();
      if (v instanceof String) {
        return ((String) v).isEmpty() ? "an empty value" : "'" + v + "'";
      }
      return String.valueOf(v);
    }
    String m = String.valueOf(e.getOriginalMessage());
    java.util.regex.Matcher str =
        java.util.regex.Pattern.compile("from String value \\('(.*)'\\)").matcher(m);
    if (str.find()) {
      return str.group(1).isEmpty() ? "an empty value" : "'" + str.group(1) + "'";
    }
    if (m.contains("from Object value")) {
      return "a mapping";
    }
    if (m.contains("from Array value")) {
      return "a list";
    }
    java.util.regex.Matcher other =
        java.util.regex.Pattern.compile("from ([A-Za-z-]+) value").matcher(m);
    if (other.find()) {
      return "a " + other.group(1).toLowerCase(Locale.ROOT) + " value";
    }
    return "something else (" + firstLine(e.getOriginalMessage()) + ")";
  }

  private static String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      } else if (r.getFieldName() != null) {
        if (b.length() > 0) {
          b.append('.');
        }
        b.append(r.getFieldName());
      }
    }
    return b.toString();
  }

  // ---- line numbers ----

  /** The line of each field path in the text, read once with the streaming parser. */
  private static final class Lines {
    private final String source;
    private final Map<String, Integer> byPath = new HashMap<>();

    Lines(String source) {
      this.source = source;
    }

    void index(ObjectMapper mapper, String text) throws IOException {
      try (JsonParser p = mapper.createParser(text)) {
        JsonToken t;
        while ((t = p.nextToken()) != null) {
          if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
            continue;
          }
          JsonStreamContext ctx = p.getParsingContext();
          if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            ctx = ctx.getParent();
          }
          byPath.putIfAbsent(pathOf(ctx), p.currentTokenLocation().getLineNr());
        }
      }
    }

    private static String pathOf(JsonStreamContext ctx) {
      List<String> segs = new ArrayList<>();
      for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
        if (c.inArray()) {
          segs.add("[" + Math.max(0, c.getCurrentIndex()) + "]");
        } else if (c.getCurrentName() != null) {
          segs.add("." + c.getCurrentName());
        }
      }
      StringBuilder b = new StringBuilder();
      for (int i = segs.size() - 1; i >= 0; i--) {
        b.append(segs.get(i));
      }
      return b.length() > 0 && b.charAt(0) == '.' ? b.substring(1) : b.toString();
    }

    /** " (line N of source)" for the path or its nearest parent found in the text. */
    String of(String path) {
      String p = path;
      while (true) {
        Integer line = byPath.get(p);
        if (line != null && line > 0) {
          return suffix(line);
        }
        int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
        if (cut <= 0) {
          return "";
        }
        p = p.substring(0, cut);
      }
    }

    /** The line of the field if the text has it, else the parser's location. */
    String best(String path, JsonLocation loc) {
      Integer line = path.isEmpty() ? null : byPath.get(path);
      return line != null && line > 0 ? suffix(line) : at(loc);
    }

    String at(JsonLocation loc) {
      return loc == null || loc.getLineNr() <= 0
          ? (source.isEmpty() ? "" : " (in " + source + ")")
          : suffix(loc.getLineNr());
    }

    private String suffix(int line) {
      return " (line " + line + (source.isEmpty() ? "" : " of " + source) + ")";
    }
  }

  // ---- from the file model to the model, naming fields ----

  private static final class Builder {
    private final Lines lines;

    Builder(Lines lines) {
      this.lines = lines;
    }

    private ConfigurationException error(String field, String message) {
      return new ConfigurationException(field, message + lines.of(field));
    }

    /** Runs a model constructor, re-labelling its error with this file's field path and line. */
    private <T> T at(String field, Supplier<T> make) {
      try {
        return make.get();
      } catch (ConfigurationException e) {
        String m = e.getMessage();
        String own = e.field() + ": ";
        throw error(field, m.startsWith(own) ? m.substring(own.length()) : m);
      }
    }

    private String required(String field, String value) {
      if (value == null || value.isBlank()) {
        throw error(field, "is required and must not be empty");
      }
      return value;
    }

    Infrastructure build(FileModel m) {
      List<PoolModel> poolModels = m.pools() == null ? List.of() : m.pools();
      if (poolModels.isEmpty()) {
        throw error("pools", "must list at least one pool (the default pool)");
      }
      Map<PoolId, WorkerPool> pools = new LinkedHashMap<>();
      Map<PoolId, Integer> poolIndex = new HashMap<>();
      Map<String, Integer> poolNames = new HashMap<>();
      List<Integer> markedDefault = new ArrayList<>();
      for (int i = 0; i < poolModels.size(); i++) {
        String f = "pools[" + i + "]";
        PoolModel pm = poolModels.get(i);
        if (pm == null) {
          throw error(f, "must be a pool, not empty");
        }
        String idText = required(f + ".id", pm.id());
        PoolId id = at(f + ".id", () -> PoolId.of(idText));
        String name = required(f + ".name", pm.name());
        Integer dup = poolIndex.putIfAbsent(id, i);
        if (dup != null) {
          throw error(
              f + ".id",
              "duplicate pool id '" + id + "' (also pools[" + dup + "]); pool ids must be unique");
        }
        Integer dupName = poolNames.putIfAbsent(name, i);
        if (dupName != null) {
          throw error(
              f + ".name",
              "duplicate pool name '"
                  + name
                  + "' (also pools["
                  + dupName
                  + "]); pool names must be unique");
        }
        if (Boolean.TRUE.equals(pm.isDefault())) {
          markedDefault.add(i);
        }
        pools.put(id, at(f, () -> new WorkerPool(id, name, pm.description())));
      }
      PoolId defaultPool = defaultPool(m, poolModels, pools, markedDefault);

      List<WorkerModel> workerModels = m.workers() == null ? List.of() : m.workers();
      Map<WorkerId, Worker> workers = new LinkedHashMap<>();
      Map<WorkerId, Integer> workerIndex = new HashMap<>();
      Map<String, Integer> workerNames = new HashMap<>();
      for (int i = 0; i < workerModels.size(); i++) {
        String f = "workers[" + i + "]";
        WorkerModel wm = workerModels.get(i);
        if (wm == null) {
          throw error(f, "must be a worker, not empty");
        }
        Worker w = worker(f, wm, pools);
        Integer dup = workerIndex.putIfAbsent(w.id(), i);
        if (dup != null) {
          throw error(
              f + ".id",
              "duplicate worker id '"
                  + w.id()
                  + "' (also workers["
                  + dup
                  + "]); worker ids must be unique");
        }
        Integer dupName = workerNames.putIfAbsent(w.name(), i);
        if (dupName != null) {
          throw error(
              f + ".name",
              "duplicate worker name '"
                  + w.name()
                  + "' (also workers["
                  + dupName
                  + "]); worker names must be unique");
        }
        workers.put(w.id(), w);
      }
      boolean builtIn = m.builtInWorkerEnabled() == null || m.builtInWorkerEnabled();
      return at("(document)", () -> new Infrastructure(pools, workers, defaultPool, builtIn));
    }

    private PoolId defaultPool(
        FileModel m,
        List<PoolModel> poolModels,
        Map<PoolId, WorkerPool> pools,
        List<Integer> markedDefault) {
      if (markedDefault.size() > 1) {
        throw error(
            "pools[" + markedDefault.get(1) + "].default",
            "pools '"
                + poolModels.get(markedDefault.get(0)).id()
                + "' and '"
                + poolModels.get(markedDefault.get(1)).id()
                + "' are both marked default; exactly one pool is the default");
      }
      PoolId marked =
          markedDefault.isEmpty() ? null : PoolId.of(poolModels.get(markedDefault.get(0)).id());
      if (m.defaultPool() == null) {
        if (marked == null) {
          throw error(
              "defaultPool",
              "no default pool: set defaultPool to one of "
                  + ids(pools.keySet())
                  + " or mark one pool with 'default: true'");
        }
        return marked;
      }
      PoolId named = at("defaultPool", () -> PoolId.of(m.defaultPool()));
      if (!pools.containsKey(named)) {
        throw error(
            "defaultPool",
            "pool '" + named + "' does not exist; known pools: " + ids(pools.keySet()));
      }
      if (marked != null && !marked.equals(named)) {
        throw error(
            "pools[" + markedDefault.get(0) + "].default",
            "pool '"
                + marked
                + "' is marked default but defaultPool names '"
                + named
                + "'; exactly one pool is the default");
      }
      return named;
    }

    private Worker worker(String f, WorkerModel wm, Map<PoolId, WorkerPool> pools) {
      String idText = required(f + ".id", wm.id());
      WorkerId id = at(f + ".id", () -> WorkerId.of(idText));
      if (id.equals(Worker.BUILT_IN_ID)) {
        throw error(
            f + ".id", "'" + id + "' is reserved for the built-in worker; choose another id");
      }
      String name = wm.name() == null ? idText : required(f + ".name", wm.name());
      if (wm.endpoint() == null) {
        throw error(f + ".endpoint", "is required: {kind: ..., address: ..., properties: {...}}");
      }
      EndpointModel em = wm.endpoint();
      String kind = required(f + ".endpoint.kind", em.kind());
      if (!KIND.matcher(kind).matches()) {
        String lower = kind.strip().toLowerCase(Locale.ROOT);
        throw error(
            f + ".endpoint.kind",
            "'"
                + kind
                + "' is not an endpoint kind: kinds are lower-case names such as local, ssh,"
                + " tentacle-listening, tentacle-polling, or one your host's transport defines"
                + (KIND.matcher(lower).matches() ? "; did you mean '" + lower + "'?" : ""));
      }
      Endpoint endpoint =
          at(f + ".endpoint", () -> new Endpoint(kind, em.address(), nonNull(em.properties())));
      if (wm.pools() == null || wm.pools().isEmpty()) {
        throw error(
            f + ".pools",
            "a worker must belong to at least one pool; name one or more of "
                + ids(pools.keySet()));
      }
      Set<PoolId> poolIds = new LinkedHashSet<>();
      for (int j = 0; j < wm.pools().size(); j++) {
        String pf = f + ".pools[" + j + "]";
        String ref = required(pf, wm.pools().get(j));
        PoolId p = at(pf, () -> PoolId.of(ref));
        if (!pools.containsKey(p)) {
          throw error(pf, "pool '" + p + "' does not exist; known pools: " + ids(pools.keySet()));
        }
        if (!poolIds.add(p)) {
          throw error(pf, "pool '" + p + "' is listed twice");
        }
      }
      Set<ScriptSyntax> syntaxes = EnumSet.noneOf(ScriptSyntax.class);
      if (wm.syntaxes() == null) {
        syntaxes.add(ScriptSyntax.BASH);
      } else {
        if (wm.syntaxes().isEmpty()) {
          throw error(
              f + ".syntaxes",
              "must name at least one script syntax (bash, sh, powershell, python), or be left out"
                  + " for bash");
        }
        for (int j = 0; j < wm.syntaxes().size(); j++) {
          String sf = f + ".syntaxes[" + j + "]";
          String s = required(sf, wm.syntaxes().get(j));
          syntaxes.add(at(sf, () -> ScriptSyntax.parse(s)));
        }
      }
      OptionalInt cap = OptionalInt.empty();
      if (wm.maxConcurrentSteps() != null) {
        if (wm.maxConcurrentSteps() < 1) {
          throw error(
              f + ".maxConcurrentSteps",
              "must be at least 1 (or left out for no cap) but was " + wm.maxConcurrentSteps());
        }
        cap = OptionalInt.of(wm.maxConcurrentSteps());
      }
      boolean enabled = wm.enabled() == null || wm.enabled();
      OptionalInt c = cap;
      return at(
          f,
          () ->
              new Worker(id, name, endpoint, poolIds, enabled, syntaxes, c, nonNull(wm.labels())));
    }

    private static Map<String, String> nonNull(Map<String, String> m) {
      if (m == null) {
        return Map.of();
      }
      Map<String, String> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(k, v == null ? "" : v));
      return out;
    }

    private static List<String> ids(Set<PoolId> ids) {
      return ids.stream().map(PoolId::value).toList();
    }
  }

  // ---- the file's shape ----

  @JsonPropertyOrder({"defaultPool", "builtInWorkerEnabled", "pools", "workers"})
  record FileModel(
      String defaultPool,
      Boolean builtInWorkerEnabled,
      List<PoolModel> pools,
      List<WorkerModel> workers) {}

  @JsonPropertyOrder({"id", "name", "description", "default"})
  record PoolModel(
      String id, String name, String description, @JsonProperty("default") Boolean isDefault) {}

  @JsonPropertyOrder({
    "id",
    "name",
    "endpoint",
    "pools",
    "enabled",
    "syntaxes",
    "maxConcurrentSteps",
    "labels"
  })
  record WorkerModel(
      String id,
      String name,
      EndpointModel endpoint,
      List<String> pools,
      Boolean enabled,
      List<String> syntaxes,
      Integer maxConcurrentSteps,
      Map<String, String> labels) {}

  @JsonPropertyOrder({"kind", "address", "properties"})
  record EndpointModel(String kind, String address, Map<String, String> properties) {}
}
