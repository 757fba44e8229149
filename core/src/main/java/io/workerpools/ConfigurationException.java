package io.workerpools;

import java.util.Objects;

/**
 * Bad configuration: an unknown pool id, a duplicate name, two default pools, an empty name, a
 * worker in no pool, an option out of range. {@link #field()} names the offending field (for
 * example {@code workers[2].pools}), and the message says what was given and what is allowed.
 */
public class ConfigurationException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;
  private final String field;

  public ConfigurationException(String field, String message) {
    super(field + ": " + message);
    this.field = Objects.requireNonNull(field, "field");
  }

  public ConfigurationException(String field, String message, Throwable cause) {
    super(field + ": " + message, cause);
    this.field = Objects.requireNonNull(field, "field");
  }

  /** The path of the field that is wrong, for example {@code workers[2].pools[0]}. */
  public String field() {
    return field;
  }
}
