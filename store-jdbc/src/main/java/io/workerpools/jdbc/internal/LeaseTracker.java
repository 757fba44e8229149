package io.workerpools.jdbc.internal;

import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which leases were announced to listeners, so that each lease is announced as started once and as
 * ended once, whichever node grants, releases or expires it and whether this node learns of it from
 * its own call or from a poll of the lease table. Poll epochs say which local grants and ends a
 * snapshot of the table already reflects. Thread-safe (one lock, never held while a listener runs:
 * events go to the {@link SerialDelivery}).
 */
public final class LeaseTracker {
  /**
   * A lease this store instance is granting or granted: {@code record} is null and {@code epoch} is
   * {@link Long#MAX_VALUE} while the insert is in flight; once granted, {@code epoch} is the poll
   * epoch at that moment (a poll with a later epoch read the table after the grant committed).
   */
  private record Mine(LeaseRecord record, long epoch) {}

  private final SerialDelivery delivery;

  /** Leases this store instance granted and has not announced the end of. */
  private final Map<String, Mine> mine = new ConcurrentHashMap<>();

  /** Leases whose release by this node is in flight: the poller leaves them to the release. */
  private final Set<String> releasing = ConcurrentHashMap.newKeySet();

  /** Incremented by each lease poll before it reads the table. */
  private final AtomicLong pollEpoch = new AtomicLong();

  /** Guards the maps below and the announcing of lease events. */
  private final Object lock = new Object();

  /** Other nodes' leases, as last announced to listeners. */
  private final Map<String, LeaseRecord> foreign = new HashMap<>();

  /**
   * Leases this node ended (released, expired) with the poll epoch then: older snapshots hold them.
   */
  private final Map<String, Long> endedLocally = new HashMap<>();

  /** This node's leases that a poll found gone (another node expired them) and announced ended. */
  private final Set<String> endedByPoll = new HashSet<>();

  public LeaseTracker(SerialDelivery delivery) {
    this.delivery = delivery;
  }

  /**
   * Registers a grant in flight, before the row can exist, so the poller never takes it for another
   * node's lease. Returns false if the id is already in use here.
   */
  public boolean reserve(String leaseId) {
    return mine.putIfAbsent(leaseId, new Mine(null, Long.MAX_VALUE)) == null;
  }

  /** The grant did not happen. */
  public void unreserve(String leaseId) {
    mine.remove(leaseId);
  }

  /** The grant committed: queues its announcement (the caller drains the delivery). */
  public void granted(LeaseRecord claim) {
    synchronized (lock) {
      mine.put(claim.leaseId(), new Mine(claim, pollEpoch.get()));
      delivery.enqueue(new StoreEvent.LeaseAcquired(claim));
    }
  }

  /** This node's release of the lease is in flight ({@code true}) or over. */
  public void releasing(String leaseId, boolean inFlight) {
    if (inFlight) {
      releasing.add(leaseId);
    } else {
      releasing.remove(leaseId);
    }
  }

  /** Announces leases this node ended; announces the start first for one it never announced. */
  public void ended(List<LeaseRecord> gone, boolean expired) {
    synchronized (lock) {
      long epoch = pollEpoch.get();
      for (LeaseRecord r : gone) {
        String id = r.leaseId();
        endedLocally.put(id, epoch);
        boolean announced = mine.remove(id) != null || foreign.remove(id) != null;
        if (!announced && endedByPoll.remove(id)) {
          continue; // the poller saw it gone first and announced its end
        }
        if (!announced) {
          delivery.enqueue(new StoreEvent.LeaseAcquired(r));
        }
        delivery.enqueue(new StoreEvent.LeaseEnded(r, expired));
      }
    }
    delivery.drain();
  }

  /** Starts a poll: call before reading the table, and pass the epoch to the method after. */
  public long nextEpoch() {
    return pollEpoch.incrementAndGet();
  }

  /**
   * Diffs the lease table (read at {@code epoch}) against what was announced: other nodes' new and
   * ended leases, and this node's leases that another node ended (expired them).
   */
  public void polled(long epoch, List<LeaseRecord> now) {
    synchronized (lock) {
      Set<String> inTable = new HashSet<>();
      for (LeaseRecord r : now) {
        String id = r.leaseId();
        inTable.add(id);
        if (mine.containsKey(id) || endedLocally.containsKey(id) || foreign.containsKey(id)) {
          continue;
        }
        foreign.put(id, r);
        delivery.enqueue(new StoreEvent.LeaseAcquired(r));
      }
      var it = foreign.values().iterator();
      while (it.hasNext()) {
        LeaseRecord r = it.next();
        if (!inTable.contains(r.leaseId())) {
          it.remove();
          delivery.enqueue(new StoreEvent.LeaseEnded(r, false));
        }
      }
      var own = mine.entrySet().iterator();
      while (own.hasNext()) {
        Map.Entry<String, Mine> e = own.next();
        if (e.getValue().epoch() < epoch
            && !inTable.contains(e.getKey())
            && !releasing.contains(e.getKey())) {
          own.remove();
          if (endedByPoll.size() > 10_000) {
            endedByPoll.clear(); // only leases whose holder never released them pile up here
          }
          endedByPoll.add(e.getKey());
          delivery.enqueue(new StoreEvent.LeaseEnded(e.getValue().record(), true));
        }
      }
      endedLocally.values().removeIf(ended -> ended < epoch);
    }
  }

  /**
   * Takes a fresh read of the table (at {@code epoch}) as what was announced, silently: listeners
   * rebuild from a fresh read (Resync) or have not subscribed yet.
   */
  public void reloaded(long epoch, List<LeaseRecord> now) {
    synchronized (lock) {
      Set<String> inTable = new HashSet<>();
      foreign.clear();
      for (LeaseRecord r : now) {
        inTable.add(r.leaseId());
        if (!mine.containsKey(r.leaseId()) && !endedLocally.containsKey(r.leaseId())) {
          foreign.put(r.leaseId(), r);
        }
      }
      mine.entrySet().removeIf(e -> e.getValue().epoch() < epoch && !inTable.contains(e.getKey()));
      endedLocally.values().removeIf(ended -> ended < epoch);
    }
  }
}
