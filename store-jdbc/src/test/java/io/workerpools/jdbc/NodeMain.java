package io.workerpools.jdbc;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A second host node in its own JVM, for the two-process tests. Usage: {@code NodeMain <mode> <jdbc
 * url> <pool> <worker,worker...> <n> <holder>}; modes:
 *
 * <ul>
 *   <li>{@code hammer}: two threads each try {@code n} lease round trips; prints a {@code HELD}
 *       line per lease held and {@code DONE granted refused releasedTrue releasedFalse}.
 *   <li>{@code hold}: leases each worker once with a time-to-live of {@code n} seconds, prints
 *       {@code HOLDING k} and waits for stdin to close (the test kills it first).
 * </ul>
 */
public final class NodeMain {
  private NodeMain() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(args[1]);
    ds.setUser("postgres");
    PoolId pool = PoolId.of(args[2]);
    List<String> workers = Arrays.asList(args[3].split(","));
    int n = Integer.parseInt(args[4]);
    String holder = args[5];
    try (JdbcInfrastructureStore store =
        JdbcInfrastructureStore.builder(TestPools.of(ds)).nodeId(holder).build()) {
      if (mode.equals("hammer")) {
        System.out.println("READY");
        ExecutorService threads = Executors.newFixedThreadPool(2);
        List<Future<Hammer.Result>> runs = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
          runs.add(
              threads.submit(
                  () ->
                      Hammer.run(
                          store,
                          holder,
                          pool,
                          workers,
                          Integer.MAX_VALUE,
                          n,
                          h -> System.out.println(h.format()))));
        }
        int[] sum = new int[4];
        for (Future<Hammer.Result> f : runs) {
          Hammer.Result r = f.get();
          sum[0] += r.granted();
          sum[1] += r.refused();
          sum[2] += r.releasedTrue();
          sum[3] += r.releasedFalse();
        }
        threads.shutdown();
        System.out.println("DONE " + sum[0] + " " + sum[1] + " " + sum[2] + " " + sum[3]);
      } else if (mode.equals("hold")) {
        int held = 0;
        for (String w : workers) {
          Instant now = Instant.now();
          LeaseRecord c =
              new LeaseRecord(
                  UUID.randomUUID().toString(),
                  WorkerId.of(w),
                  pool,
                  holder,
                  "held-" + w,
                  now,
                  now.plusSeconds(n));
          if (store.tryAcquireLease(c).isPresent()) {
            held++;
          }
        }
        System.out.println("HOLDING " + held);
        System.out.flush();
        waitForStdinToClose();
      } else {
        throw new IllegalArgumentException("unknown mode " + mode);
      }
    }
    System.out.flush();
  }

  private static void waitForStdinToClose() throws IOException {
    while (System.in.read() >= 0) {
      // nothing: the parent kills this process
    }
  }
}
