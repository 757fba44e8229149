package io.workerpools.relay;

import io.workerpools.ConfigurationException;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * One call relayed to the node that holds an address: an opaque, bounded payload, an id unique per
 * call, and an absolute deadline.
 *
 * <p>The deadline is an instant on the clock of the node that reads it: the relay carries the
 * <em>remaining</em> time across nodes (the PostgreSQL relay measures it on the database's clock),
 * so that clock skew between nodes neither stretches nor cuts it.
 *
 * @param id the call id (1 to 64 of {@code [A-Za-z0-9._-]}); a fresh UUID by default
 * @param address what the call is for, as announced by its holder ({@link NodeRelay#announce}); 1
 *     to {@value #MAX_ADDRESS_LENGTH} printable ASCII characters
 * @param payload the request bytes (copied in and out: the value is immutable)
 * @param deadline the instant after which nobody waits for the reply
 * @param takeBy the instant by which the holding node must have taken the call, else the caller
 *     withdraws it unread ({@link RelayException.Reason#NOT_TAKEN}: provably never delivered, so
 *     safe to send elsewhere); at most {@code deadline}, which it is by default. A live holder
 *     takes a call within milliseconds: a short take-by time finds a dead holder long before the
 *     deadline.
 */
public record RelayCall(
    String id, String address, byte[] payload, Instant deadline, Instant takeBy) {
  /** The longest address. */
  public static final int MAX_ADDRESS_LENGTH = 200;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern ADDRESS =
      Pattern.compile("[\\x21-\\x7e]{1," + MAX_ADDRESS_LENGTH + "}");

  /** Validates and copies the payload. */
  public RelayCall {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(deadline, "deadline");
    takeBy = takeBy == null ? deadline : takeBy;
    if (takeBy.isAfter(deadline)) {
      throw new ConfigurationException(
          "takeBy", "must not be after the deadline " + deadline + " but was " + takeBy);
    }
    if (!ID.matcher(id).matches()) {
      throw new ConfigurationException(
          "id",
          "relay call id must be 1 to 64 letters, digits, '.', '_' or '-' but was '"
              + printable(id)
              + "'");
    }
    requireAddress(address);
    payload = payload.clone();
  }

  /** Checks an address: 1 to {@value #MAX_ADDRESS_LENGTH} printable ASCII characters. */
  public static String requireAddress(String address) {
    if (address == null || !ADDRESS.matcher(address).matches()) {
      throw new ConfigurationException(
          "address",
          "relay address must be 1 to "
              + MAX_ADDRESS_LENGTH
              + " printable ASCII characters without spaces but was '"
              + printable(address)
              + "'");
    }
    return address;
  }

  private static String printable(String s) {
    if (s == null) {
      return "null";
    }
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** The payload (a copy). */
  @Override
  public byte[] payload() {
    return payload.clone();
  }

  /** The payload's size in bytes (no copy). */
  public int size() {
    return payload.length;
  }

  /** A builder: {@code address}, {@code payload} and {@code deadline} are required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RelayCall c
        && id.equals(c.id)
        && address.equals(c.address)
        && java.util.Arrays.equals(payload, c.payload)
        && deadline.equals(c.deadline)
        && takeBy.equals(c.takeBy);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, address, java.util.Arrays.hashCode(payload), deadline, takeBy);
  }

  @Override
  public String toString() {
    return "RelayCall[id="
        + id
        + ", address="
        + address
        + ", "
        + payload.length
        + " bytes, deadline="
        + deadline
        + "]";
  }

  /** Builds a {@link RelayCall}. */
  public static final class Builder {
    private String id = UUID.randomUUID().toString();
    private String address;
    private byte[] payload;
    private Instant deadline;
    private Instant takeBy;

    private Builder() {}

    /** The call id (default: a fresh UUID). */
    public Builder id(String id) {
      this.id = id;
      return this;
    }

    /** The address the call is for. */
    public Builder address(String address) {
      this.address = address;
      return this;
    }

    /** The request bytes. */
    public Builder payload(byte[] payload) {
      this.payload = payload;
      return this;
    }

    /** The absolute deadline. */
    public Builder deadline(Instant deadline) {
      this.deadline = deadline;
      return this;
    }

    /** The instant by which the holder must have taken the call (default: the deadline). */
    public Builder takeBy(Instant takeBy) {
      this.takeBy = takeBy;
      return this;
    }

    /** Builds the call. */
    public RelayCall build() {
      return new RelayCall(id, address, payload, deadline, takeBy);
    }
  }
}
