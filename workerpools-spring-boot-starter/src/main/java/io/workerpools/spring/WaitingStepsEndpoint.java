package io.workerpools.spring;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPools;
import io.workerpools.model.PoolId;
import io.workerpools.resolve.PassedOver;
import io.workerpools.resolve.WaitingSteps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.lang.Nullable;

/**
 * "Why is my step waiting?" as an Actuator endpoint: {@code GET /actuator/workerpools} (expose it
 * with {@code management.endpoints.web.exposure.include=workerpools}) shows the resolver's snapshot
 * of waiting steps ({@link io.workerpools.resolve.WorkerResolver#waitingSteps}): each step's place
 * in the queue, its pool and how it was chosen, how long it has waited; for each pool and syntax
 * they wait for, the workers passed over and why, and what would unblock them. Optional query
 * parameters: {@code pool} (only steps waiting for it), {@code maxSteps}, {@code maxPassedOver}.
 * Cheap enough to poll every second with thousands of steps waiting.
 *
 * <p>The answer is plain JSON (strings, numbers, lists, maps): enum constants as they are named,
 * times as ISO-8601.
 */
@Endpoint(id = "workerpools")
public class WaitingStepsEndpoint {
  private final WorkerPools pools;

  public WaitingStepsEndpoint(WorkerPools pools) {
    this.pools = pools;
  }

  /** The snapshot of the steps waiting now. */
  @ReadOperation
  public Map<String, Object> waitingSteps(
      @Nullable String pool, @Nullable Integer maxSteps, @Nullable Integer maxPassedOver) {
    WaitingSteps.Query.Builder q = WaitingSteps.Query.builder();
    try {
      if (pool != null && !pool.isBlank()) {
        q.pool(PoolId.of(pool));
      }
      if (maxSteps != null) {
        q.maxSteps(maxSteps);
      }
      if (maxPassedOver != null) {
        q.maxPassedOver(maxPassedOver);
      }
    } catch (ConfigurationException e) {
      throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
    }
    return view(pools.resolver().waitingSteps(q.build()));
  }

  static Map<String, Object> view(WaitingSteps w) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("takenAt", w.takenAt().toString());
    out.put("total", w.total());
    out.put("matched", w.matched());
    out.put("omitted", w.omitted());
    List<Object> steps = new ArrayList<>();
    for (WaitingSteps.Step s : w.steps()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("stepId", s.stepId());
      m.put("position", s.position());
      m.put("positionInGroup", s.positionInGroup());
      m.put("pool", s.group().pool().value());
      m.put("syntax", s.group().syntax().name());
      m.put("container", s.group().container());
      m.put("poolChoice", s.poolChoice().name());
      m.put("waitingSince", s.waitingSince().toString());
      m.put("waited", s.waited().toString());
      steps.add(m);
    }
    out.put("steps", steps);
    List<Object> groups = new ArrayList<>();
    for (WaitingSteps.Group g : w.groups()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("pool", g.pool().value());
      m.put("syntax", g.syntax().name());
      m.put("container", g.container());
      m.put("defaultPool", g.defaultPool());
      m.put("waiting", g.waiting());
      m.put("blocked", g.blocked().map(Enum::name).orElse(null));
      m.put("members", g.members());
      m.put("eligible", g.eligible());
      Map<String, Object> byReason = new LinkedHashMap<>();
      g.passedOverByReason().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(e -> byReason.put(e.getKey().name(), e.getValue()));
      m.put("passedOverByReason", byReason);
      List<Object> passed = new ArrayList<>();
      for (PassedOver p : g.passedOver()) {
        Map<String, Object> pm = new LinkedHashMap<>();
        pm.put("worker", p.worker().value());
        pm.put("name", p.workerName());
        pm.put("reason", p.reason().name());
        pm.put("detail", p.detail());
        passed.add(pm);
      }
      m.put("passedOver", passed);
      List<Object> unblock = new ArrayList<>();
      for (WaitingSteps.Unblock u : g.unblockedBy()) {
        Map<String, Object> um = new LinkedHashMap<>();
        um.put("kind", u.kind().name());
        um.put("workers", u.workers());
        um.put("comesByItself", u.kind().comesByItself());
        um.put("description", u.description());
        unblock.add(um);
      }
      m.put("unblockedBy", unblock);
      groups.add(m);
    }
    out.put("groups", groups);
    return out;
  }

  @Override
  public String toString() {
    return "WaitingStepsEndpoint[" + pools + "]";
  }
}
