package io.workerpools.model;

/**
 * The id of a {@link WorkerPool}: 1 to 128 letters, digits, {@code . _ : @ -}.
 *
 * @param value the id text
 */
public record PoolId(String value) implements Comparable<PoolId> {
  public PoolId {
    Ids.check("pool id", value);
  }

  public static PoolId of(String value) {
    return new PoolId(value);
  }

  @Override
  public int compareTo(PoolId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
