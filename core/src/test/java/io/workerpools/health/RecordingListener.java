package io.workerpools.health;

import io.workerpools.model.HealthReport;
import io.workerpools.model.WorkerId;
import java.util.ArrayList;
import java.util.List;

/** Keeps every call, and fails the test if two calls ever overlap. */
final class RecordingListener implements HealthListener {
  final List<HealthStatusChange> changes = new ArrayList<>();
  final List<HealthReport> checks = new ArrayList<>();
  private boolean inside;

  @Override
  public synchronized void onStatusChanged(HealthStatusChange change) {
    enter();
    changes.add(change);
    inside = false;
  }

  @Override
  public synchronized void onCheckCompleted(WorkerId worker, HealthReport report) {
    enter();
    checks.add(report);
    inside = false;
  }

  private void enter() {
    if (inside) {
      throw new AssertionError("listener called re-entrantly");
    }
    inside = true;
  }

  synchronized List<HealthStatusChange> changesFor(WorkerId w) {
    return changes.stream().filter(c -> c.worker().equals(w)).toList();
  }
}
