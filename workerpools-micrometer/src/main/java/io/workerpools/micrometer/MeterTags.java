package io.workerpools.micrometer;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import java.util.Locale;
import java.util.Optional;

/** The tag keys and the bounded tag values the meters use. Pure. */
final class MeterTags {
  static final String POOL = "pool";
  static final String WORKER = "worker";
  static final String STATUS = "status";
  static final String OUTCOME = "outcome";
  static final String TRANSPORT = "transport";
  static final String ERROR = "error";

  /** The pool tag of a step that resolved to no pool. */
  static final String NO_POOL = "none";

  /** The transport tag of a worker this binder does not know (removed meanwhile). */
  static final String UNKNOWN_TRANSPORT = "unknown";

  private MeterTags() {}

  /** An enum constant as a tag value: {@code SCRIPT_FAILED} becomes {@code script_failed}. */
  static String value(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  static String pool(PoolId pool) {
    return pool.value();
  }

  static String pool(Optional<PoolId> pool) {
    return pool.map(PoolId::value).orElse(NO_POOL);
  }

  /** The transport kind of a worker: its endpoint's kind ({@code local} for the built-in). */
  static String transport(Worker worker) {
    return worker == null ? UNKNOWN_TRANSPORT : kind(worker.endpoint());
  }

  static String kind(Endpoint endpoint) {
    return endpoint.kind().toLowerCase(Locale.ROOT);
  }

  /** The transport error a step's ending stands for, or null if it is none. */
  static String error(StepResult.Status status) {
    return switch (status) {
      case WORKER_LOST -> "worker_lost";
      case COULD_NOT_START -> "could_not_start";
      default -> null;
    };
  }

  /** The transport error of a health check that got no answer from the worker. */
  static final String CHECK_FAILED = "check_failed";
}
