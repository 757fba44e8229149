/**
 * WorkerPools: decide where a pipeline step runs (the built-in worker or a healthy worker of its
 * pool) and run it there. Start with {@link io.workerpools.resolve.WorkerResolver} and {@link
 * io.workerpools.dispatch}.
 */
package io.workerpools;
