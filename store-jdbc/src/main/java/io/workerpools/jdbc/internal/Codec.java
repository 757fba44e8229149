package io.workerpools.jdbc.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.workerpools.WorkerPoolsException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.StoreEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * JSON encoding of what the JDBC store keeps as text: a worker's configuration, a health report,
 * and the configuration events of the change log. Written by hand (not data binding) so that the
 * stored form is explicit and does not change when a model record gains a method.
 */
public final class Codec {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Codec() {}

  // ---- workers ----

  public static String worker(Worker w) {
    return write(workerNode(w));
  }

  public static Worker worker(String json) {
    return workerFrom(read(json));
  }

  private static ObjectNode workerNode(Worker w) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("id", w.id().value());
    n.put("name", w.name());
    ObjectNode e = n.putObject("endpoint");
    e.put("kind", w.endpoint().kind());
    e.put("address", w.endpoint().address());
    putMap(e.putObject("properties"), w.endpoint().properties());
    ArrayNode pools = n.putArray("pools");
    w.pools().stream().map(PoolId::value).sorted().forEach(pools::add);
    n.put("enabled", w.enabled());
    ArrayNode syn = n.putArray("syntaxes");
    w.syntaxes().stream().sorted().forEach(s -> syn.add(s.name()));
    if (w.maxConcurrentSteps().isPresent()) {
      n.put("maxConcurrentSteps", w.maxConcurrentSteps().getAsInt());
    }
    putMap(n.putObject("labels"), w.labels());
    return n;
  }

  private static Worker workerFrom(JsonNode n) {
    JsonNode e = n.get("endpoint");
    Endpoint endpoint =
        Endpoint.of(e.get("kind").asText(), e.get("address").asText(), map(e.get("properties")));
    Set<PoolId> pools = new LinkedHashSet<>();
    n.get("pools").forEach(p -> pools.add(PoolId.of(p.asText())));
    Set<ScriptSyntax> syntaxes = EnumSet.noneOf(ScriptSyntax.class);
    n.get("syntaxes").forEach(s -> syntaxes.add(ScriptSyntax.valueOf(s.asText())));
    OptionalInt cap =
        n.hasNonNull("maxConcurrentSteps")
            ? OptionalInt.of(n.get("maxConcurrentSteps").asInt())
            : OptionalInt.empty();
    return new Worker(
        WorkerId.of(n.get("id").asText()),
        n.get("name").asText(),
        endpoint,
        pools,
        n.get("enabled").asBoolean(),
        syntaxes,
        cap,
        map(n.get("labels")));
  }

  // ---- health ----

  public static String health(HealthReport h) {
    return write(healthNode(h));
  }

  public static HealthReport health(String json) {
    return json == null ? null : healthFrom(read(json));
  }

  private static ObjectNode healthNode(HealthReport h) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("status", h.status().name());
    n.put("checkedAtS", h.checkedAt().getEpochSecond());
    n.put("checkedAtN", h.checkedAt().getNano());
    n.put("latencyNanos", h.latency().toNanos());
    n.put("message", h.message());
    putMap(n.putObject("details"), h.details());
    return n;
  }

  private static HealthReport healthFrom(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    return new HealthReport(
        HealthStatus.valueOf(n.get("status").asText()),
        Instant.ofEpochSecond(n.get("checkedAtS").asLong(), n.get("checkedAtN").asInt()),
        Duration.ofNanos(n.get("latencyNanos").asLong()),
        n.get("message").asText(),
        map(n.get("details")));
  }

  // ---- change-log events ----

  /**
   * Encodes the events of one change. Lease events never go to the change log (other nodes see
   * leases by reading the lease table), nor does {@link StoreEvent.Resync}.
   */
  public static String events(List<StoreEvent> events) {
    ArrayNode a = MAPPER.createArrayNode();
    for (StoreEvent e : events) {
      a.add(eventNode(e));
    }
    return write(a);
  }

  public static List<StoreEvent> events(String json) {
    List<StoreEvent> out = new ArrayList<>();
    for (JsonNode n : read(json)) {
      out.add(eventFrom(n));
    }
    return out;
  }

  private static ObjectNode eventNode(StoreEvent e) {
    ObjectNode n = MAPPER.createObjectNode();
    if (e instanceof StoreEvent.PoolPut p) {
      n.put("type", "PoolPut");
      n.put("id", p.pool().id().value());
      n.put("name", p.pool().name());
      n.put("description", p.pool().description());
    } else if (e instanceof StoreEvent.PoolRemoved p) {
      n.put("type", "PoolRemoved");
      n.put("id", p.pool().value());
    } else if (e instanceof StoreEvent.WorkerPut w) {
      n.put("type", "WorkerPut");
      if (w.previous() != null) {
        n.set("previous", workerNode(w.previous()));
      }
      n.set("worker", workerNode(w.worker()));
    } else if (e instanceof StoreEvent.WorkerRemoved w) {
      n.put("type", "WorkerRemoved");
      n.set("worker", workerNode(w.worker()));
    } else if (e instanceof StoreEvent.DefaultPoolMoved d) {
      n.put("type", "DefaultPoolMoved");
      n.put("previous", d.previous().value());
      n.put("current", d.current().value());
    } else if (e instanceof StoreEvent.BuiltInWorkerSwitched b) {
      n.put("type", "BuiltInWorkerSwitched");
      n.put("enabled", b.enabled());
    } else if (e instanceof StoreEvent.HealthRecorded h) {
      n.put("type", "HealthRecorded");
      n.put("worker", h.worker().value());
      if (h.previous() != null) {
        n.set("previous", healthNode(h.previous()));
      }
      n.set("current", healthNode(h.current()));
    } else if (e instanceof StoreEvent.DrainingChanged d) {
      n.put("type", "DrainingChanged");
      n.put("worker", d.worker().value());
      n.put("draining", d.draining());
    } else {
      throw new IllegalArgumentException("not a change-log event: " + e);
    }
    return n;
  }

  private static StoreEvent eventFrom(JsonNode n) {
    String type = n.get("type").asText();
    switch (type) {
      case "PoolPut":
        return new StoreEvent.PoolPut(
            new WorkerPool(
                PoolId.of(n.get("id").asText()),
                n.get("name").asText(),
                n.get("description").asText()));
      case "PoolRemoved":
        return new StoreEvent.PoolRemoved(PoolId.of(n.get("id").asText()));
      case "WorkerPut":
        return new StoreEvent.WorkerPut(
            n.hasNonNull("previous") ? workerFrom(n.get("previous")) : null,
            workerFrom(n.get("worker")));
      case "WorkerRemoved":
        return new StoreEvent.WorkerRemoved(workerFrom(n.get("worker")));
      case "DefaultPoolMoved":
        return new StoreEvent.DefaultPoolMoved(
            PoolId.of(n.get("previous").asText()), PoolId.of(n.get("current").asText()));
      case "BuiltInWorkerSwitched":
        return new StoreEvent.BuiltInWorkerSwitched(n.get("enabled").asBoolean());
      case "HealthRecorded":
        return new StoreEvent.HealthRecorded(
            WorkerId.of(n.get("worker").asText()),
            healthFrom(n.get("previous")),
            healthFrom(n.get("current")));
      case "DrainingChanged":
        return new StoreEvent.DrainingChanged(
            WorkerId.of(n.get("worker").asText()), n.get("draining").asBoolean());
      default:
        throw new WorkerPoolsException(
            "the change log holds an event of unknown type '"
                + type
                + "'; is a newer WorkerPools version writing to the same database?");
    }
  }

  // ---- helpers ----

  private static void putMap(ObjectNode target, Map<String, String> m) {
    new java.util.TreeMap<>(m).forEach(target::put);
  }

  private static Map<String, String> map(JsonNode n) {
    Map<String, String> m = new LinkedHashMap<>();
    if (n != null) {
      Iterator<Map.Entry<String, JsonNode>> it = n.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        m.put(e.getKey(), e.getValue().asText());
      }
    }
    return m;
  }

  private static String write(JsonNode n) {
    try {
      return MAPPER.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new io.workerpools.WorkerPoolsException("cannot encode " + n, e);
    }
  }

  private static JsonNode read(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new WorkerPoolsException("the JDBC store holds malformed JSON: " + json, e);
    }
  }
}
