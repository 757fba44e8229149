package io.workerpools.model;

import io.workerpools.ConfigurationException;
import java.util.Objects;

/**
 * A named group of workers. Which pool is the default is a property of the {@link Infrastructure},
 * not of the pool, so that "exactly one default" holds by construction.
 *
 * @param id unique id
 * @param name unique, non-blank display name
 * @param description free text, may be empty
 */
public record WorkerPool(PoolId id, String name, String description) {
  public WorkerPool {
    Objects.requireNonNull(id, "id");
    if (name == null || name.isBlank()) {
      throw new ConfigurationException("pool " + id + ".name", "must not be empty");
    }
    description = description == null ? "" : description;
  }

  public static WorkerPool of(String id, String name) {
    return new WorkerPool(PoolId.of(id), name, "");
  }
}
