package io.workerpools.model;

/**
 * The id of a {@link Worker}: 1 to 128 letters, digits, {@code . _ : @ -}.
 *
 * @param value the id text
 */
public record WorkerId(String value) implements Comparable<WorkerId> {
  public WorkerId {
    Ids.check("worker id", value);
  }

  public static WorkerId of(String value) {
    return new WorkerId(value);
  }

  @Override
  public int compareTo(WorkerId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
