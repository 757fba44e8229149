package io.workerpools;

import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.health.HealthListener;
import io.workerpools.health.HealthMonitor;
import io.workerpools.lease.WorkerLease;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.TransportRegistry;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How {@link WorkerPools.Builder} puts the parts together: the store, the built-in worker's
 * transport, one {@link TransportRegistry} shared by the health monitor and the dispatcher, the
 * resolver, the monitor (started last) and the dispatcher, wired so that a lost worker is checked
 * again at once. If a part fails, the parts already made are closed again.
 */
final class Assembly {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPools.class);

  /** What a built facade holds. {@code toClose} is in close order. */
  record Parts(
      InfrastructureStore store,
      LocalProcessTransport local,
      TransportRegistry transports,
      WorkerResolver resolver,
      HealthMonitor health,
      StepDispatcher dispatcher,
      StepLogSink logSink,
      Duration closeTimeout,
      TimeSource time,
      List<AutoCloseable> toClose) {}

  private Assembly() {}

  static WorkerPools assemble(WorkerPools.Builder b) {
    List<AutoCloseable> made = new ArrayList<>();
    try {
      InfrastructureStore s = b.store != null ? b.store : new InMemoryInfrastructureStore();
      boolean ownsStore = b.store == null || b.ownsStore;
      if (ownsStore) {
        made.add(s);
      }
      if (b.infrastructure != null) {
        s.replaceInfrastructure(b.infrastructure);
      }
      if (b.builtInWorkerEnabled != null) {
        s.setBuiltInWorkerEnabled(b.builtInWorkerEnabled);
      }
      LocalProcessTransport local = b.localTransport;
      if (local == null) {
        LocalProcessTransport.Builder lb = LocalProcessTransport.builder().timeSource(b.time);
        if (b.builtInWorkerDirectory != null) {
          lb.baseDirectory(b.builtInWorkerDirectory);
        }
        local = lb.build();
      }
      made.add(local);
      for (int i = b.transports.size() - 1; i >= 0; i--) {
        if (!b.shared.contains(b.transports.get(i))) {
          made.add(b.transports.get(i));
        }
      }
      List<WorkerTransport> all = new ArrayList<>(b.transports);
      all.add(local);
      // One registry: the dispatcher and the health monitor pick the same transport per worker.
      TransportRegistry registry = TransportRegistry.of(all);
      WorkerResolver resolver =
          WorkerResolver.builder(s)
              .nodeId(b.nodeId)
              .leaseTtl(b.leaseTtl)
              .timeSource(b.time)
              .build();
      made.add(resolver);
      HealthMonitor.Builder hb =
          HealthMonitor.builder(s, registry)
              .timeSource(b.time)
              .maxInFlight(b.healthMaxInFlight)
              .probeContainerEngines(b.probeContainerEngines);
      if (b.healthPolicies != null) {
        hb.policies(b.healthPolicies);
      }
      HealthMonitor health = hb.build();
      made.add(health);
      for (HealthListener l : b.healthListeners) {
        health.addListener(l);
      }
      WorkerPools[] self = new WorkerPools[1];
      List<DispatchListener> listeners = new ArrayList<>();
      listeners.add(DispatchListener.recheckLostWorkers(health));
      listeners.addAll(b.dispatchListeners);
      listeners.add(
          new DispatchListener() {
            @Override
            public void onFinished(Step step, StepResult result) {
              WorkerPools p = self[0];
              if (p != null) {
                p.stepEnded();
              }
            }
          });
      StepDispatcher dispatcher =
          StepDispatcher.builder(resolver)
              .timeSource(b.time)
              .createBuiltInTransport(false)
              .transports(registry)
              .listener(new Listeners(listeners))
              .build();
      made.add(dispatcher);
      health.start();
      // Close order: the host's transports first, the built-in worker's last, then the store.
      List<AutoCloseable> toClose = new ArrayList<>();
      for (WorkerTransport t : b.transports) {
        if (!b.shared.contains(t)) {
          toClose.add(t);
        }
      }
      toClose.add(local);
      if (ownsStore) {
        toClose.add(s);
      }
      WorkerPools p =
          new WorkerPools(
              new Parts(
                  s,
                  local,
                  registry,
                  resolver,
                  health,
                  dispatcher,
                  b.logSink,
                  b.closeTimeout,
                  b.time,
                  toClose));
      self[0] = p;
      return p;
    } catch (RuntimeException e) {
      for (int i = made.size() - 1; i >= 0; i--) {
        try {
          made.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** Calls several dispatch listeners in order; one that throws does not stop the others. */
  private static final class Listeners implements DispatchListener {
    private final List<DispatchListener> all;

    Listeners(List<DispatchListener> all) {
      this.all = List.copyOf(all);
    }

    @Override
    public void onQueued(Step step) {
      for (DispatchListener l : all) {
        safely(() -> l.onQueued(step));
      }
    }

    @Override
    public void onLeased(Step step, WorkerLease lease, Duration waited) {
      for (DispatchListener l : all) {
        safely(() -> l.onLeased(step, lease, waited));
      }
    }

    @Override
    public void onStarted(Step step, WorkerLease lease) {
      for (DispatchListener l : all) {
        safely(() -> l.onStarted(step, lease));
      }
    }

    @Override
    public void onWorkerLost(Step step, Worker worker, StepResult result) {
      for (DispatchListener l : all) {
        safely(() -> l.onWorkerLost(step, worker, result));
      }
    }

    @Override
    public void onFinished(Step step, StepResult result) {
      for (DispatchListener l : all) {
        safely(() -> l.onFinished(step, result));
      }
    }

    private static void safely(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.warn("dispatch listener threw; ignored", e);
      }
    }
  }
}
