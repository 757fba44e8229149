package io.workerpools;

import io.workerpools.model.WorkerId;

/**
 * The peer's identity did not match what was trusted (a host key, a certificate thumbprint) or our
 * credentials were refused. Never retried. The message names what was expected and what was
 * presented, and how to trust it if it is right.
 */
public class AuthenticationException extends TransportException {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(WorkerId worker, String message, Throwable cause) {
    super(worker, message, false, cause);
  }
}
