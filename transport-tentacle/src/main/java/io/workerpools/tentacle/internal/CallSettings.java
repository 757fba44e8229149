package io.workerpools.tentacle.internal;

import java.time.Duration;

/**
 * The host's timing for calls to agents (from {@code TentacleTransport.Builder}).
 *
 * @param retryWindow how long idempotent calls are retried on network errors
 * @param statusHold the longest a status call is held open on the agent
 * @param callTimeout the reply deadline on top of any hold
 * @param collectTimeout how long a polling request waits to be collected
 * @param timeoutGrace how long past a script's timeout the host waits for the agent to report it
 *     before it cancels the script itself and reports TIMED_OUT
 * @param cancelGrace how long after {@code cancel()} the host waits for the agent to confirm before
 *     it reports CANCELLED anyway
 */
public record CallSettings(
    Duration retryWindow,
    Duration statusHold,
    Duration callTimeout,
    Duration collectTimeout,
    Duration timeoutGrace,
    Duration cancelGrace) {}
