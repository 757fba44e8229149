package io.workerpools.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.workerpools.ConfigurationException;
import io.workerpools.config.InfrastructureLoader;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.TentacleTransport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The cloud-regions file: the host's deployment targets (each with its own default pool) beside the
 * library's own infrastructure file, which is read by {@link InfrastructureLoader} unchanged.
 * Targets are the host's concept, not the library's: the library only needs, per step, the default
 * pool of the target it runs for ({@code StepRequirements.builder().targetDefaultPool(...)}).
 *
 * @param targets the regions, in file order
 * @param infrastructure pools and workers
 */
record RegionsFile(List<Target> targets, Infrastructure infrastructure) {
  /** At most this many targets: the file is input, and input is bounded. */
  static final int MAX_TARGETS = 1000;

  /**
   * A deployment target of the host's: a cloud region with its own default pool.
   *
   * @param id the target's id
   * @param name a display name
   * @param defaultPool the pool its steps go to when they name none
   */
  record Target(String id, String name, PoolId defaultPool) {}

  RegionsFile {
    targets = List.copyOf(targets);
  }

  /**
   * Reads the file's text. Errors are {@link ConfigurationException}s naming the field ({@code
   * targets[2].defaultPool}, or the infrastructure loader's own path under {@code infrastructure}),
   * what was given and what is allowed.
   */
  static RegionsFile parse(String text, String source) {
    ObjectMapper yaml = new YAMLMapper();
    JsonNode root;
    try {
      root = yaml.readTree(text);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new ConfigurationException(source, "not a YAML document: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ConfigurationException(
          source, "expected a mapping with targets and infrastructure");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!f.equals("targets") && !f.equals("infrastructure")) {
        throw new ConfigurationException(
            f, "unknown field '" + f + "' in " + source + "; allowed: targets, infrastructure");
      }
    }
    JsonNode infra = root.get("infrastructure");
    if (infra == null || !infra.isObject()) {
      throw new ConfigurationException("infrastructure", "missing: the pools and workers");
    }
    Infrastructure infrastructure;
    try {
      infrastructure =
          InfrastructureLoader.parse(
              yaml.writeValueAsString(infra),
              InfrastructureLoader.Format.YAML,
              source + " (infrastructure)");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ConfigurationException("infrastructure", e.getOriginalMessage());
    }
    return new RegionsFile(targets(root.get("targets"), infrastructure), infrastructure);
  }

  private static List<Target> targets(JsonNode node, Infrastructure infra) {
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw new ConfigurationException("targets", "missing: a list of targets (id, defaultPool)");
    }
    if (node.size() > MAX_TARGETS) {
      throw new ConfigurationException(
          "targets", "at most " + MAX_TARGETS + " targets, but was " + node.size());
    }
    List<Target> targets = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "targets[" + i + "]";
      JsonNode t = node.get(i);
      for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!Set.of("id", "name", "defaultPool").contains(f)) {
          throw new ConfigurationException(
              at + "." + f, "unknown field '" + f + "'; allowed: id, name, defaultPool");
        }
      }
      String id = text(t, "id", at);
      if (!ids.add(id)) {
        throw new ConfigurationException(at + ".id", "duplicate target id '" + id + "'");
      }
      PoolId pool = PoolId.of(text(t, "defaultPool", at));
      if (infra.pool(pool).isEmpty()) {
        throw new ConfigurationException(
            at + ".defaultPool",
            "pool '"
                + pool
                + "' is not one of the infrastructure's pools "
                + infra.pools().keySet()
                + "; add it under infrastructure.pools or correct the name");
      }
      JsonNode name = t.get("name");
      targets.add(new Target(id, name == null ? id : name.asText(), pool));
    }
    return targets;
  }

  private static String text(JsonNode t, String field, String at) {
    JsonNode v = t.get(field);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new ConfigurationException(at + "." + field, "missing: a non-empty string");
    }
    return v.asText();
  }

  /** The target with this id. */
  Target target(String id) {
    return targets.stream().filter(t -> t.id().equals(id)).findFirst().orElseThrow();
  }

  /** The polling workers, whose agents run inside the regions. */
  List<Worker> pollingWorkers() {
    return infrastructure.workers().values().stream()
        .filter(w -> w.endpoint().kind().equals(TentacleTransport.POLLING))
        .toList();
  }

  /** A polling worker's subscription: its address without {@code poll://}. */
  static String subscription(Worker w) {
    return w.endpoint().address().substring("poll://".length());
  }
}
