/**
 * Enrolment with one-time tokens: the host issues a token bound to a pool ({@link
 * io.workerpools.tentacle.enrol.EnrolmentTokens}), an agent presents it with its certificate to the
 * host's enrolment port ({@link io.workerpools.tentacle.enrol.EnrolmentListener}, agent side {@link
 * io.workerpools.tentacle.enrol.AgentEnrolment}); the host records the worker in that pool with the
 * agent's thumbprint pinned, and the agent stores the host's thumbprint, which the token carries,
 * so neither side trusts a first use blindly. Tokens live in an {@link
 * io.workerpools.tentacle.enrol.EnrolmentTokenStore} (in memory by default; an SPI for a store
 * shared by several host nodes), which holds only a hash of each token's secret.
 */
package io.workerpools.tentacle.enrol;
