package io.workerpools.tentacle.enrol;

import io.workerpools.ConfigurationException;

/** The one request and one reply of an enrolment, as JSON frames after the preamble. */
final class EnrolMessages {
  /** The largest enrolment request accepted. */
  static final int MAX_REQUEST_BYTES = 4096;

  /** The largest enrolment reply accepted. */
  static final int MAX_REPLY_BYTES = 16384;

  static final String NAME = "[A-Za-z0-9._-]{1,64}";

  private EnrolMessages() {}

  /**
   * The agent's request.
   *
   * @param tokenId the token's id
   * @param secret the token's secret
   * @param name the worker name the agent asks for, or null for one derived from its thumbprint
   * @param pool the pool the agent expects to join, or null
   * @param mode {@code polling} or {@code listening}
   * @param port the listening port (listening mode), else 0
   */
  record Request(String tokenId, String secret, String name, String pool, String mode, int port) {
    /** Validates every field (a peer's input). */
    void validate() {
      if (tokenId == null || !tokenId.matches("[0-9a-f]{16}")) {
        throw new ConfigurationException("tokenId", "malformed");
      }
      if (secret == null || !secret.matches("[A-Za-z0-9_-]{43}")) {
        throw new ConfigurationException("secret", "malformed");
      }
      if (name != null && !name.matches(NAME)) {
        throw new ConfigurationException("name", "use 1 to 64 letters, digits, '.', '_' or '-'");
      }
      if (pool != null && !pool.matches(NAME)) {
        throw new ConfigurationException("pool", "use 1 to 64 letters, digits, '.', '_' or '-'");
      }
      if (!"polling".equals(mode) && !"listening".equals(mode)) {
        throw new ConfigurationException("mode", "must be polling or listening");
      }
      if ("listening".equals(mode) ? port < 1 || port > 65535 : port != 0) {
        throw new ConfigurationException("port", "1 to 65535 when listening, else 0");
      }
    }

    /** Never shows the secret. */
    @Override
    public String toString() {
      return "Request[tokenId="
          + tokenId
          + ", name="
          + name
          + ", pool="
          + pool
          + ", mode="
          + mode
          + "]";
    }
  }

  /**
   * The host's reply: the worker recorded, or why not.
   *
   * @param workerId the worker's id, or null if refused
   * @param pool the pool it joined, or null
   * @param subscription the polling subscription (polling mode), or null
   * @param error why the enrolment was refused, or null
   */
  record Reply(String workerId, String pool, String subscription, String error) {
    static Reply refused(String why) {
      return new Reply(null, null, null, why);
    }
  }
}
