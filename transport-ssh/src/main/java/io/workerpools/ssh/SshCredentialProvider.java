package io.workerpools.ssh;

import io.workerpools.model.Worker;

/**
 * Supplies the credentials an SSH worker's endpoint refers to by id (endpoint property {@value
 * SshEndpoint#CREDENTIALS}). Implemented by the host application, which keeps its secrets where it
 * likes (a vault, its database); WorkerPools never stores or logs them.
 *
 * <p>Called from a transport thread each time a connection is made (not for every step: a session
 * is reused), possibly concurrently for different workers. It may block briefly (a vault lookup)
 * but must return or throw within the connect timeout. Throw a {@link
 * io.workerpools.WorkerPoolsException} (or any runtime exception) if the id is unknown: the step
 * then reports {@code COULD_NOT_START} and the health check {@code UNAVAILABLE}, with the message.
 */
@FunctionalInterface
public interface SshCredentialProvider {
  /**
   * The credentials for {@code credentialsId}, for logging in to {@code worker}.
   *
   * @param credentialsId the endpoint's {@value SshEndpoint#CREDENTIALS} property
   * @param worker the worker being connected to
   */
  SshCredentials credentials(String credentialsId, Worker worker);
}
