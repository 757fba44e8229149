/**
 * The transport SPI: how WorkerPools reaches a worker, checks its health and runs a script on it.
 * See {@link io.workerpools.transport.WorkerTransport}.
 */
package io.workerpools.transport;
