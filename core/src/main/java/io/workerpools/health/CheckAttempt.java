package io.workerpools.health;

import io.workerpools.model.HealthReport;
import io.workerpools.model.Worker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** One check of one worker, from its start to the first of answer, failure and timeout. */
final class CheckAttempt {
  final WorkerState state;
  final Worker worker;
  final long seq;
  final CompletableFuture<HealthReport> result;
  final AtomicBoolean done = new AtomicBoolean();
  volatile HealthPolicy policy;
  volatile long startNanos;
  volatile HealthScheduler.Cancellable timeout;

  CheckAttempt(WorkerState state, Worker worker, long seq, CompletableFuture<HealthReport> result) {
    this.state = state;
    this.worker = worker;
    this.seq = seq;
    this.result = result;
  }
}
