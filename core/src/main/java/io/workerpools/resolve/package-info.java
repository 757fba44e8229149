/**
 * The two rules: where a step runs. Read {@link io.workerpools.resolve.Rules} first: it states what
 * is decided, as pure functions; everything else here is how it is decided fast and safely. {@link
 * io.workerpools.resolve.WorkerResolver} resolves steps to the built-in worker or to an eligible
 * worker of their pool, leases it, renews and expires leases, drains workers and queues callers
 * that wait for one. Selection among eligible workers is served by an index per (pool, script
 * syntax) that store events keep current; a blocked resolution explains itself with a reason per
 * worker ({@link io.workerpools.resolve.Resolution.Blocked}).
 */
package io.workerpools.resolve;
