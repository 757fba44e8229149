package io.workerpools.health;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ClosedException;
import io.workerpools.LifecycleException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.ManualScheduler;
import io.workerpools.time.ManualTimeSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Misusing the monitor's life fails with WorkerPoolsException subtypes, never IllegalState. */
class HealthMonitorLifecycleTest {
  private final ManualTimeSource clock = new ManualTimeSource();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();

  private HealthMonitor monitor() {
    return HealthMonitor.builder(store, List.of(new ScriptedTransport(clock)))
        .timeSource(clock)
        .scheduler(scheduler)
        .build();
  }

  @Test
  void usedBeforeStartItSaysToCallStart() {
    try (HealthMonitor m = monitor()) {
      assertThatThrownBy(m::checkAll)
          .isInstanceOf(LifecycleException.class)
          .isInstanceOf(WorkerPoolsException.class)
          .hasMessageContaining("not started; call start()");
    }
  }

  @Test
  void startedTwiceItSaysSo() {
    try (HealthMonitor m = monitor()) {
      m.start();
      assertThatThrownBy(m::start)
          .isInstanceOf(LifecycleException.class)
          .hasMessageContaining("already started");
    }
  }

  @Test
  void afterCloseStartAndChecksAreClosedExceptions() {
    HealthMonitor m = monitor();
    m.start();
    m.close();
    assertThatThrownBy(m::start)
        .isInstanceOf(ClosedException.class)
        .hasMessageContaining("the health monitor is closed");
    assertThatThrownBy(() -> m.check(WorkerId.of("w1"))).isInstanceOf(ClosedException.class);
    HealthMonitor never = monitor();
    never.close();
    assertThatThrownBy(never::start).isInstanceOf(ClosedException.class);
  }
}
