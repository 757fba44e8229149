/**
 * Running a step end to end: {@link io.workerpools.dispatch.StepDispatcher} resolves and leases a
 * worker, starts the script through the transport that reaches it, streams its log lines, honours
 * cancellation, timeouts and max parallelism, releases the lease however the step ends, and reports
 * a {@link io.workerpools.dispatch.StepResult} that says which kind of ending it was.
 */
package io.workerpools.dispatch;
