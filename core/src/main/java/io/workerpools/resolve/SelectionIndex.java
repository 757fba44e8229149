package io.workerpools.resolve;

/**
 * The eligible workers of one (pool, script syntax), bucketed by active lease count. Each bucket is
 * a FIFO list: selection takes the head of the least-loaded non-empty bucket, and a worker whose
 * lease count changes is appended to the tail of its new bucket. Taking a lease moves the chosen
 * worker out of the head; releasing it puts the worker behind the others with the same count. That
 * is fewest leases first with round robin among ties, in O(1) per selection and per change, and
 * with no allocation once the bucket arrays have grown to the largest lease count seen.
 *
 * <p>Not thread-safe: the resolver guards it with its lock.
 */
final class SelectionIndex {
  private Node[] heads = new Node[4];
  private Node[] tails = new Node[4];
  private int size;
  private int min;

  /** A worker's place in one index. Linked while the worker is eligible, unlinked otherwise. */
  static final class Node {
    final WorkerState worker;
    final SelectionIndex index;
    Node prev;
    Node next;
    int bucket = -1;

    Node(WorkerState worker, SelectionIndex index) {
      this.worker = worker;
      this.index = index;
    }

    boolean linked() {
      return bucket >= 0;
    }
  }

  /** Eligible workers in the index. */
  int size() {
    return size;
  }

  /** The worker to choose: head of the least-loaded bucket; null when none is eligible. */
  Node first() {
    return size == 0 ? null : heads[min];
  }

  /** Links {@code n} (not linked) at the tail of bucket {@code leases}. */
  void add(Node n, int leases) {
    if (leases >= heads.length) {
      int len = Math.max(leases + 1, heads.length * 2);
      heads = java.util.Arrays.copyOf(heads, len);
      tails = java.util.Arrays.copyOf(tails, len);
    }
    n.bucket = leases;
    n.next = null;
    n.prev = tails[leases];
    if (n.prev == null) {
      heads[leases] = n;
    } else {
      n.prev.next = n;
    }
    tails[leases] = n;
    if (size == 0 || leases < min) {
      min = leases;
    }
    size++;
  }

  /** Unlinks {@code n} (linked). */
  void remove(Node n) {
    int b = n.bucket;
    if (n.prev == null) {
      heads[b] = n.next;
    } else {
      n.prev.next = n.next;
    }
    if (n.next == null) {
      tails[b] = n.prev;
    } else {
      n.next.prev = n.prev;
    }
    n.prev = null;
    n.next = null;
    n.bucket = -1;
    size--;
    if (size == 0) {
      min = 0;
    } else if (b == min && heads[b] == null) {
      // The next non-empty bucket: lease counts are dense in practice, so this is a short walk.
      while (heads[min] == null) {
        min++;
      }
    }
  }

  /** Puts a linked or unlinked node where it belongs: in bucket {@code leases}, or out. */
  void place(Node n, boolean eligible, int leases) {
    if (eligible) {
      if (n.bucket != leases) {
        if (n.linked()) {
          remove(n);
        }
        add(n, leases);
      }
    } else if (n.linked()) {
      remove(n);
    }
  }

  /** The workers linked in this index, for consistency checks (a scan; allocates). */
  java.util.Set<io.workerpools.model.WorkerId> workers() {
    java.util.Set<io.workerpools.model.WorkerId> out = new java.util.HashSet<>();
    for (Node head : heads) {
      for (Node n = head; n != null; n = n.next) {
        out.add(n.worker.id);
      }
    }
    return out;
  }
}
