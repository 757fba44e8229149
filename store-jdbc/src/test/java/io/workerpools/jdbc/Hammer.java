package io.workerpools.jdbc;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/** One hammering thread: tries to lease one of the workers, holds it briefly, releases it. */
final class Hammer {
  /** What one hammering run saw. */
  record Result(int granted, int refused, int releasedTrue, int releasedFalse) {}

  private Hammer() {}

  static Result run(
      InfrastructureStore store,
      String holder,
      PoolId pool,
      List<String> workers,
      int cap,
      int iterations,
      Consumer<LeaseWitness.Held> witness) {
    int granted = 0;
    int refused = 0;
    int releasedTrue = 0;
    int releasedFalse = 0;
    for (int i = 0; i < iterations; i++) {
      String w = workers.get(i % workers.size());
      Instant now = Instant.now();
      Optional<LeaseRecord> r =
          store.tryAcquireLease(
              new LeaseRecord(
                  UUID.randomUUID().toString(),
                  WorkerId.of(w),
                  pool,
                  holder,
                  "step-" + i,
                  now,
                  now.plusSeconds(60)));
      if (r.isEmpty()) {
        refused++;
        continue;
      }
      granted++;
      long from = System.nanoTime();
      // Hold it across a database round trip so that holders overlap, and check the table too.
      long inTable = store.leases().stream().filter(l -> l.worker().value().equals(w)).count();
      if (inTable > cap) {
        throw new AssertionError(inTable + " leases on " + w + " with a cap of " + cap);
      }
      long to = System.nanoTime();
      witness.accept(new LeaseWitness.Held(w, from, to));
      if (store.releaseLease(r.get().leaseId())) {
        releasedTrue++;
      } else {
        releasedFalse++;
      }
    }
    return new Result(granted, refused, releasedTrue, releasedFalse);
  }
}
