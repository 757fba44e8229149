package io.workerpools.config;

import io.workerpools.ConfigurationException;
import io.workerpools.config.FileShape.EndpointModel;
import io.workerpools.config.FileShape.FileModel;
import io.workerpools.config.FileShape.PoolModel;
import io.workerpools.config.FileShape.WorkerModel;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * From the file's records to the model. It checks only what the model cannot see: fields the file
 * must have, the file's two ways of naming the default pool, and each list entry at its position (a
 * pool listed twice, which the model's set would merge). Everything else ({@link Infrastructure}
 * and {@link Worker} check it: unique ids and names, the reserved id, pools that exist) is the
 * model's own check, whose error already names the field the way the file does ({@code
 * workers[2].name}); this class only adds the line.
 */
final class ModelMapping {
  /**
   * What an endpoint kind looks like: a lower-case name ({@code ssh}, {@code tentacle-polling}).
   */
  private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9._-]*");

  private final SourceLines lines;

  ModelMapping(SourceLines lines) {
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
      throw error(field, withoutField(e));
    }
  }

  private static String withoutField(ConfigurationException e) {
    String m = e.getMessage();
    String own = e.field() + ": ";
    return m.startsWith(own) ? m.substring(own.length()) : m;
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
    List<WorkerPool> pools = new ArrayList<>();
    Set<PoolId> poolIds = new LinkedHashSet<>();
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
      if (Boolean.TRUE.equals(pm.isDefault())) {
        markedDefault.add(i);
      }
      pools.add(at(f, () -> new WorkerPool(id, name, pm.description())));
      poolIds.add(id);
    }
    PoolId defaultPool = defaultPool(m, poolModels, poolIds, markedDefault);

    List<WorkerModel> workerModels = m.workers() == null ? List.of() : m.workers();
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < workerModels.size(); i++) {
      String f = "workers[" + i + "]";
      WorkerModel wm = workerModels.get(i);
      if (wm == null) {
        throw error(f, "must be a worker, not empty");
      }
      workers.add(worker(f, wm, poolIds));
    }
    boolean builtIn = m.builtInWorkerEnabled() == null || m.builtInWorkerEnabled();
    // Unique ids and names, the reserved id, the default pool's existence: the model's checks,
    // whose fields are already the file's paths (the lists keep the file's order).
    try {
      return Infrastructure.of(pools, workers, defaultPool, builtIn);
    } catch (ConfigurationException e) {
      throw error(e.field(), withoutField(e));
    }
  }

  private PoolId defaultPool(
      FileModel m, List<PoolModel> poolModels, Set<PoolId> pools, List<Integer> markedDefault) {
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
                + ids(pools)
                + " or mark one pool with 'default: true'");
      }
      return marked;
    }
    PoolId named = at("defaultPool", () -> PoolId.of(m.defaultPool()));
    // A pool that does not exist is the model's to say (Infrastructure checks it).
    if (marked != null && !marked.equals(named) && pools.contains(named)) {
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

  private Worker worker(String f, WorkerModel wm, Set<PoolId> pools) {
    String idText = required(f + ".id", wm.id());
    WorkerId id = at(f + ".id", () -> WorkerId.of(idText));
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
          "a worker must belong to at least one pool; name one or more of " + ids(pools));
    }
    Set<PoolId> poolIds = new LinkedHashSet<>();
    for (int j = 0; j < wm.pools().size(); j++) {
      String pf = f + ".pools[" + j + "]";
      String ref = required(pf, wm.pools().get(j));
      PoolId p = at(pf, () -> PoolId.of(ref));
      // At the entry's position (the model sees a set, without positions or twins).
      if (!pools.contains(p)) {
        throw error(pf, "pool '" + p + "' does not exist; known pools: " + ids(pools));
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
        () -> new Worker(id, name, endpoint, poolIds, enabled, syntaxes, c, nonNull(wm.labels())));
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
