package io.workerpools.tentacle.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import io.workerpools.WorkerPoolsException;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON on the wire. Polymorphism is allow-listed by message type name ({@link #REQUEST_TYPES}); no
 * Jackson default typing; unknown fields, unknown types and trailing tokens are rejected with a
 * message that names them.
 */
public final class Wire {
  /** The mapper: strict about unknown fields, nulls for primitives and trailing tokens. */
  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /** Every request type and the record its body must parse into. */
  public static final Map<String, Class<?>> REQUEST_TYPES;

  static {
    Map<String, Class<?>> m = new TreeMap<>();
    m.put("ping", Messages.Empty.class);
    m.put("heartbeat", Messages.Empty.class);
    m.put("capabilities", Messages.Empty.class);
    m.put("script.start", Messages.StartScript.class);
    m.put("script.status", Messages.StatusRequest.class);
    m.put("script.cancel", Messages.TicketRequest.class);
    m.put("script.complete", Messages.TicketRequest.class);
    m.put("files.upload", Messages.Upload.class);
    m.put("files.download", Messages.Download.class);
    REQUEST_TYPES = Map.copyOf(m);
  }

  private Wire() {}

  /** The envelope of a request. */
  public record Envelope(String type, JsonNode body) {}

  /** The envelope of a reply: {@code error} is null on success. */
  public record Reply(String type, JsonNode body, String error) {}

  /** A decoded request: its type and its body as the allow-listed record. */
  public record Decoded(String type, Object body) {}

  /** Encodes a request. */
  public static byte[] request(String type, Object body) {
    return write(new Envelope(type, MAPPER.valueToTree(body)));
  }

  /** Encodes a successful reply. */
  public static byte[] ok(String type, Object body) {
    return write(new Reply(type, MAPPER.valueToTree(body), null));
  }

  /** Encodes an error reply. */
  public static byte[] error(String type, String message) {
    return write(new Reply(type, NullNode.getInstance(), message));
  }

  private static byte[] write(Object o) {
    try {
      return MAPPER.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new WorkerPoolsException("cannot encode " + o.getClass().getSimpleName(), e);
    }
  }

  /**
   * Decodes a request frame.
   *
   * @throws ProtocolViolationException (framing intact) naming what was wrong
   */
  public static Decoded decodeRequest(byte[] frame) throws ProtocolViolationException {
    Envelope env = parse(frame, Envelope.class, "request");
    if (env.type() == null) {
      throw new ProtocolViolationException("the request has no 'type' field", false);
    }
    Class<?> bodyType = REQUEST_TYPES.get(env.type());
    if (bodyType == null) {
      throw new ProtocolViolationException(
          "unknown message type '"
              + env.type()
              + "'; this agent understands "
              + new TreeMap<>(REQUEST_TYPES).keySet(),
          false);
    }
    JsonNode body =
        env.body() == null || env.body().isNull() ? MAPPER.createObjectNode() : env.body();
    try {
      return new Decoded(env.type(), MAPPER.treeToValue(body, bodyType));
    } catch (UnrecognizedPropertyException e) {
      throw new ProtocolViolationException(
          "unknown field '"
              + e.getPropertyName()
              + "' in a '"
              + env.type()
              + "' message; known fields: "
              + e.getKnownPropertyIds(),
          false,
          e);
    } catch (IOException e) {
      throw new ProtocolViolationException(
          "malformed '" + env.type() + "' message: " + firstLine(e), false, e);
    }
  }

  /** Decodes a reply frame. */
  public static Reply decodeReply(byte[] frame) throws ProtocolViolationException {
    return parse(frame, Reply.class, "reply");
  }

  /** Converts a reply body into a record. */
  public static <T> T body(Reply reply, Class<T> type) throws ProtocolViolationException {
    try {
      return MAPPER.treeToValue(reply.body(), type);
    } catch (IOException e) {
      throw new ProtocolViolationException(
          "malformed '" + reply.type() + "' reply: " + e.getMessage(), false, e);
    }
  }

  private static <T> T parse(byte[] frame, Class<T> type, String what)
      throws ProtocolViolationException {
    T value;
    try {
      value = MAPPER.readValue(frame, type);
    } catch (UnrecognizedPropertyException e) {
      throw new ProtocolViolationException(
          "unknown field '"
              + e.getPropertyName()
              + "' in the "
              + what
              + " envelope; known fields: "
              + e.getKnownPropertyIds(),
          false,
          e);
    } catch (IOException e) {
      throw new ProtocolViolationException(
          "the " + what + " is not valid JSON of the expected shape: " + firstLine(e), false, e);
    }
    if (value == null) {
      // The JSON literal null: Jackson maps it to a null value, not to an object.
      throw new ProtocolViolationException(
          "the " + what + " is not valid JSON of the expected shape: it is null, not an object",
          false);
    }
    return value;
  }

  private static String firstLine(IOException e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
