package io.workerpools.model;

import io.workerpools.ConfigurationException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What a worker <em>is</em>: its configuration. Immutable and replaced as a whole when
 * configuration changes; runtime state (health, leases, draining) lives apart, so a configuration
 * change never loses it.
 *
 * @param id unique id
 * @param name unique, non-blank display name
 * @param endpoint how a transport reaches it
 * @param pools the pools it belongs to (at least one)
 * @param enabled a disabled worker is never given work (but still counts as "in the pool" for rule
 *     1)
 * @param syntaxes the script syntaxes it can run (at least one)
 * @param maxConcurrentSteps the most leases it may hold at once; empty means unbounded
 * @param labels free-form labels for the host's own use
 */
public record Worker(
    WorkerId id,
    String name,
    Endpoint endpoint,
    Set<PoolId> pools,
    boolean enabled,
    Set<ScriptSyntax> syntaxes,
    OptionalInt maxConcurrentSteps,
    Map<String, String> labels) {

  /** The id reserved for the built-in worker. */
  public static final WorkerId BUILT_IN_ID = WorkerId.of("built-in");

  /**
   * The built-in worker: the host process itself, running steps as local child processes. It
   * belongs to no pool; the resolver chooses it only by rule 1.
   */
  public static final Worker BUILT_IN =
      new Worker(
          BUILT_IN_ID,
          "Built-in worker",
          Endpoint.local(),
          Set.of(),
          true,
          EnumSet.of(
              ScriptSyntax.BASH, ScriptSyntax.SH, ScriptSyntax.POWERSHELL, ScriptSyntax.PYTHON),
          OptionalInt.empty(),
          Map.of());

  public Worker {
    Objects.requireNonNull(id, "id");
    String where = "worker " + id;
    if (name == null || name.isBlank()) {
      throw new ConfigurationException(where + ".name", "must not be empty");
    }
    if (endpoint == null) {
      throw new ConfigurationException(where + ".endpoint", "must be set");
    }
    pools = Set.copyOf(new LinkedHashSet<>(Objects.requireNonNull(pools, "pools")));
    if (pools.isEmpty() && !id.equals(BUILT_IN_ID)) {
      throw new ConfigurationException(
          where + ".pools", "a worker must belong to at least one pool; name one or more pool ids");
    }
    if (syntaxes == null || syntaxes.isEmpty()) {
      throw new ConfigurationException(
          where + ".syntaxes", "must name at least one script syntax (for example bash)");
    }
    syntaxes = Set.copyOf(syntaxes);
    maxConcurrentSteps = maxConcurrentSteps == null ? OptionalInt.empty() : maxConcurrentSteps;
    if (maxConcurrentSteps.isPresent() && maxConcurrentSteps.getAsInt() < 1) {
      throw new ConfigurationException(
          where + ".maxConcurrentSteps",
          "must be at least 1 (or left out for no cap) but was " + maxConcurrentSteps.getAsInt());
    }
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  /** Whether this is the built-in worker. */
  public boolean isBuiltIn() {
    return id.equals(BUILT_IN_ID);
  }

  /** Whether the worker can run scripts of this syntax. */
  public boolean canRun(ScriptSyntax syntax) {
    return syntaxes.contains(syntax);
  }

  /** The cap on concurrent leases, or {@link Integer#MAX_VALUE} when unbounded. */
  public int capOrMax() {
    return maxConcurrentSteps.orElse(Integer.MAX_VALUE);
  }

  /** A builder that starts from this worker's values. */
  public Builder toBuilder() {
    Builder b = new Builder(id.value()).name(name).endpoint(endpoint).enabled(enabled);
    b.pools.addAll(pools);
    b.syntaxes.clear();
    b.syntaxes.addAll(syntaxes);
    b.maxConcurrentSteps = maxConcurrentSteps;
    b.labels.putAll(labels);
    return b;
  }

  public static Builder builder(String id) {
    return new Builder(id);
  }

  /**
   * Builds a {@link Worker}. Defaults: name = id, enabled, bash only, no cap, no labels. The
   * endpoint and at least one pool must be set.
   */
  public static final class Builder {
    private final String id;
    private String name;
    private Endpoint endpoint;
    private final List<PoolId> pools = new ArrayList<>();
    private boolean enabled = true;
    private final Set<ScriptSyntax> syntaxes = EnumSet.of(ScriptSyntax.BASH);
    private OptionalInt maxConcurrentSteps = OptionalInt.empty();
    private final Map<String, String> labels = new LinkedHashMap<>();

    private Builder(String id) {
      this.id = id;
      this.name = id;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder endpoint(Endpoint endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    public Builder pool(String poolId) {
      pools.add(PoolId.of(poolId));
      return this;
    }

    public Builder pool(PoolId poolId) {
      pools.add(Objects.requireNonNull(poolId, "poolId"));
      return this;
    }

    public Builder pools(Iterable<PoolId> poolIds) {
      pools.clear();
      poolIds.forEach(this::pool);
      return this;
    }

    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    public Builder syntaxes(ScriptSyntax first, ScriptSyntax... more) {
      syntaxes.clear();
      syntaxes.add(first);
      syntaxes.addAll(List.of(more));
      return this;
    }

    public Builder syntaxes(Set<ScriptSyntax> all) {
      syntaxes.clear();
      syntaxes.addAll(all);
      return this;
    }

    public Builder maxConcurrentSteps(int cap) {
      this.maxConcurrentSteps = OptionalInt.of(cap);
      return this;
    }

    public Builder unboundedConcurrency() {
      this.maxConcurrentSteps = OptionalInt.empty();
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public Worker build() {
      return new Worker(
          WorkerId.of(id),
          name,
          endpoint,
          new LinkedHashSet<>(pools),
          enabled,
          syntaxes.isEmpty() ? Set.of() : EnumSet.copyOf(syntaxes),
          maxConcurrentSteps,
          labels);
    }
  }
}
