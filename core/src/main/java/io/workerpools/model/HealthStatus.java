package io.workerpools.model;

/**
 * The health of a worker as last seen. Only {@link #HEALTHY} and {@link #HAS_WARNINGS} get work.
 */
public enum HealthStatus {
  HEALTHY,
  HAS_WARNINGS,
  UNHEALTHY,
  UNAVAILABLE,
  UNKNOWN;

  /** Whether a worker in this status may be given a step. */
  public boolean isEligible() {
    return this == HEALTHY || this == HAS_WARNINGS;
  }
}
