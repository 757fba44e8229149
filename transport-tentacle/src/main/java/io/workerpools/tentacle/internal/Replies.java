package io.workerpools.tentacle.internal;

import java.util.Set;

/**
 * Checks a reply body before the host acts on it: every required field present, the ticket the one
 * asked about. An agent is authenticated, not trusted to be bug-free: a reply that fails a check is
 * a protocol error, never a hang or an exception on a host thread.
 */
public final class Replies {
  private static final Set<String> STATES = Set.of("PENDING", "RUNNING", "COMPLETE");

  private Replies() {}

  /** Checks a reply body of the given request type; {@code ticket} may be null. */
  public static void check(String type, Object body, String ticket)
      throws ProtocolViolationException {
    if (body == null) {
      throw violation(type, "has no body");
    }
    if (body instanceof Messages.ScriptStatus st) {
      if (st.ticket() == null || (ticket != null && !ticket.equals(st.ticket()))) {
        throw violation(type, "is about ticket '" + st.ticket() + "', not '" + ticket + "'");
      }
      if (st.state() == null || !STATES.contains(st.state())) {
        throw violation(type, "has state '" + st.state() + "'; expected one of " + STATES);
      }
      if (st.logs() == null) {
        throw violation(type, "has no 'logs' list");
      }
      for (Messages.LogEntry l : st.logs()) {
        if (l == null || l.source() == null || l.text() == null) {
          throw violation(type, "has a log entry without source or text: " + l);
        }
      }
      if (st.nextSequence() < 0) {
        throw violation(type, "has a negative nextSequence " + st.nextSequence());
      }
    } else if (body instanceof Messages.Capabilities c) {
      if (c.services() == null || c.os() == null || c.services().contains(null)) {
        throw violation(type, "lacks 'services' or 'os'");
      }
    } else if (body instanceof Messages.FileInfo f) {
      if (f.fullPath() == null || f.sha256() == null || f.length() < 0) {
        throw violation(type, "lacks 'fullPath' or 'sha256', or has a negative length");
      }
    }
  }

  private static ProtocolViolationException violation(String type, String what) {
    return new ProtocolViolationException("the agent's '" + type + "' reply " + what, false);
  }
}
