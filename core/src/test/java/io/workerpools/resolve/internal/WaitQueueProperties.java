package io.workerpools.resolve.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/** The one wait queue of the resolver and the dispatcher's gates: arrival order, always. */
class WaitQueueProperties {

  /** A waiter: its arrival number, whether it gave up, whether it can be served now. */
  record W(int n, boolean gone, boolean servable) {}

  private static List<W> waiters(List<Integer> kinds) {
    List<W> out = new ArrayList<>();
    for (int i = 0; i < kinds.size(); i++) {
      int k = kinds.get(i);
      out.add(new W(i, k == 0, k != 1));
    }
    return out;
  }

  @Property
  void waitersAreServedInArrivalOrderAndOnlyStrictOrderStopsAtTheFirstUnservable(
      @ForAll @Size(max = 12) List<@IntRange(min = 0, max = 3) Integer> kinds,
      @ForAll boolean strict) {
    List<W> all = waiters(kinds);
    WaitQueue<W> q = new WaitQueue<>();
    all.forEach(q::add);
    List<W> served = new ArrayList<>();
    List<W> dropped = new ArrayList<>();
    int n =
        q.serve(
            strict ? WaitQueue.Order.STRICT : WaitQueue.Order.SKIP_UNSERVABLE,
            W::gone,
            w -> w.servable() ? w : null,
            (w, g) -> served.add(w),
            dropped::add);
    List<W> expectServed = new ArrayList<>();
    List<W> expectDropped = new ArrayList<>();
    boolean stopped = false;
    for (W w : all) {
      if (stopped) {
        break;
      }
      if (w.gone()) {
        expectDropped.add(w);
      } else if (w.servable()) {
        expectServed.add(w);
      } else if (strict) {
        stopped = true;
      }
    }
    assertThat(served).isEqualTo(expectServed);
    assertThat(dropped).isEqualTo(expectDropped);
    assertThat(n).isEqualTo(served.size());
    assertThat(q.size()).isEqualTo(all.size() - served.size() - dropped.size());
    Statistics.label("an unservable waiter was met before a servable one")
        .collect(
            all.stream().filter(w -> !w.gone()).findFirst().map(w -> !w.servable()).orElse(false)
                && all.stream().anyMatch(w -> !w.gone() && w.servable()));
    Statistics.label("an unservable waiter was met before a servable one")
        .coverage(c -> c.check(true).percentage(p -> p >= 10));
  }

  @Property
  void takeFirstGivesTheTurnToTheOldestWaiterThatHasNotGivenUp(
      @ForAll @Size(max = 12) List<@IntRange(min = 0, max = 3) Integer> kinds) {
    List<W> all = waiters(kinds);
    WaitQueue<W> q = new WaitQueue<>();
    all.forEach(q::add);
    List<W> dropped = new ArrayList<>();
    W got = q.takeFirst(W::gone, dropped::add);
    W expect = all.stream().filter(w -> !w.gone()).findFirst().orElse(null);
    assertThat(got).isEqualTo(expect);
    assertThat(dropped).isEqualTo(all.subList(0, expect == null ? all.size() : expect.n()));
    Statistics.label("gone waiters were skipped").collect(!dropped.isEmpty() && got != null);
    Statistics.label("gone waiters were skipped")
        .coverage(c -> c.check(true).percentage(p -> p >= 10));
  }
}
