package io.workerpools.tentacle.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.workerpools.tentacle.TentacleCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What a polling call looks like in the node relay. Request: a {@code u16} big-endian header
 * length, the header (strict JSON: {@link Header}), then the Tentacle request frame as it would go
 * to the agent. Reply: one status byte ({@link #OK}: the agent's reply frame follows; {@link
 * #NOT_COLLECTED}: no agent connection took the request, so it was never delivered; {@link
 * #FAILED}: it failed after an agent took it; {@link #REFUSED}: the holding node refused it), then
 * the frame or a UTF-8 message. Everything decoded here came from another node: it is checked as
 * peer input, with messages that say what was wrong.
 */
public final class RelayEnvelope {
  /** The relay address prefix of a polling subscription. */
  public static final String ADDRESS_PREFIX = "tentacle-polling:";

  static final int MAX_HEADER = 1024;
  static final byte OK = 0;
  static final byte NOT_COLLECTED = 1;
  static final byte FAILED = 2;
  static final byte REFUSED = 3;
  private static final ObjectMapper MAPPER = Wire.MAPPER;

  private RelayEnvelope() {}

  /**
   * The header of a relayed polling call.
   *
   * @param v the envelope version (1)
   * @param subscription the polling subscription
   * @param thumbprint the agent thumbprint the calling node expects to serve it
   * @param collectMillis how long the request may wait to be collected
   * @param replyMillis how long, once collected, its reply may take
   */
  public record Header(
      int v, String subscription, String thumbprint, long collectMillis, long replyMillis) {}

  /** A decoded request. */
  record Request(Header header, byte[] frame) {}

  /** The relay address of a subscription. */
  public static String address(String subscription) {
    return ADDRESS_PREFIX + subscription;
  }

  static byte[] request(Header h, byte[] frame) {
    byte[] head;
    try {
      head = MAPPER.writeValueAsBytes(h);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    byte[] out = new byte[2 + head.length + frame.length];
    out[0] = (byte) (head.length >>> 8);
    out[1] = (byte) head.length;
    System.arraycopy(head, 0, out, 2, head.length);
    System.arraycopy(frame, 0, out, 2 + head.length, frame.length);
    return out;
  }

  /**
   * Decodes and checks a relayed request for {@code address}.
   *
   * @throws ProtocolViolationException naming what was wrong
   */
  static Request decodeRequest(String address, byte[] payload, int maxFrameBytes)
      throws ProtocolViolationException {
    if (payload.length < 2) {
      throw new ProtocolViolationException("a relayed call shorter than its header length", false);
    }
    int len = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
    if (len == 0 || len > MAX_HEADER || 2 + len > payload.length) {
      throw new ProtocolViolationException(
          "a relayed call's header length " + len + " is out of bounds (1 to " + MAX_HEADER + ")",
          false);
    }
    Header h;
    try {
      h = MAPPER.readValue(payload, 2, len, Header.class);
    } catch (IOException e) {
      throw new ProtocolViolationException(
          "a relayed call's header is not valid: " + e.getMessage().lines().findFirst().orElse(""),
          false,
          e);
    }
    if (h == null || h.v() != 1) {
      throw new ProtocolViolationException(
          "a relayed call's envelope version is " + (h == null ? "missing" : h.v()) + ", not 1",
          false);
    }
    if (h.subscription() == null
        || !h.subscription().matches("[A-Za-z0-9._-]{1,128}")
        || !address.equals(address(h.subscription()))) {
      throw new ProtocolViolationException(
          "a relayed call's subscription does not match its address " + address, false);
    }
    try {
      TentacleCertificate.normalizeThumbprint("thumbprint", h.thumbprint());
    } catch (RuntimeException e) {
      throw new ProtocolViolationException("a relayed call's thumbprint is not valid", false);
    }
    if (h.collectMillis() < 0 || h.replyMillis() <= 0) {
      throw new ProtocolViolationException(
          "a relayed call's collect and reply times must be positive", false);
    }
    byte[] frame = Arrays.copyOfRange(payload, 2 + len, payload.length);
    if (frame.length == 0 || frame.length > maxFrameBytes) {
      throw new ProtocolViolationException(
          "a relayed request frame of "
              + frame.length
              + " bytes is outside 1 to "
              + maxFrameBytes
              + " bytes",
          false);
    }
    Wire.Decoded d = Wire.decodeRequest(frame); // an allow-listed type whose body parses
    if (d.type().startsWith("files.")) {
      throw new ProtocolViolationException(
          "'" + d.type() + "' is not relayed: file transfer reaches listening agents only", false);
    }
    return new Request(h, frame);
  }

  static byte[] reply(byte status, byte[] body) {
    byte[] out = new byte[1 + body.length];
    out[0] = status;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  static byte[] reply(byte status, String message) {
    return reply(status, message.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Turns a relayed reply into the agent's reply frame, or the exception a direct exchange would
   * have thrown: a {@link PeerConnection.ConnectFailure} when the request was never delivered.
   */
  static byte[] decodeReply(byte[] payload, int maxFrameBytes, String holder) throws IOException {
    if (payload.length < 1) {
      throw new ProtocolViolationException("an empty relayed reply from node " + holder, false);
    }
    byte[] body = Arrays.copyOfRange(payload, 1, payload.length);
    switch (payload[0]) {
      case OK:
        if (body.length == 0 || body.length > maxFrameBytes) {
          throw new ProtocolViolationException(
              "a relayed reply frame of " + body.length + " bytes from node " + holder, false);
        }
        return body;
      case NOT_COLLECTED:
        throw new PeerConnection.ConnectFailure("via node " + holder + ": " + text(body), null);
      case FAILED:
        throw new IOException("via node " + holder + ": " + text(body));
      case REFUSED:
        throw new PeerConnection.ConnectFailure(
            "node " + holder + " refused the relayed call: " + text(body), null);
      default:
        throw new ProtocolViolationException(
            "a relayed reply with unknown status " + payload[0] + " from node " + holder, false);
    }
  }

  private static String text(byte[] body) {
    String s = new String(body, 0, Math.min(body.length, 2000), StandardCharsets.UTF_8);
    return s.replaceAll("[\\p{Cntrl}&&[^\\t]]", "?");
  }
}
