/**
 * The two rules: where a step runs. {@link io.workerpools.resolve.WorkerResolver} resolves steps to
 * the built-in worker or to an eligible worker of their pool, and leases it.
 */
package io.workerpools.resolve;
