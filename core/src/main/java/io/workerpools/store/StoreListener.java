package io.workerpools.store;

/**
 * Hears every change to an {@link InfrastructureStore}, after it is made.
 *
 * <p>Threading: events arrive one at a time, in the order the store applied them, possibly on the
 * thread that made the change (in-memory store) or on a store thread (shared stores).
 * Implementations must be quick, must not block, and must not call the store's mutating methods
 * from inside {@link #onEvent}.
 */
@FunctionalInterface
public interface StoreListener {
  void onEvent(StoreEvent event);
}
