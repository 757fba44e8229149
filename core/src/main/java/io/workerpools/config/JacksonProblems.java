package io.workerpools.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.workerpools.ConfigurationException;
import io.workerpools.config.FileShape.EndpointModel;
import io.workerpools.config.FileShape.FileModel;
import io.workerpools.config.FileShape.PoolModel;
import io.workerpools.config.FileShape.WorkerModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Jackson's and SnakeYAML's problems in the user's words: a {@link ConfigurationException} naming
 * the field by its path in the file ({@code workers[2].pools[0]}), what was expected and what was
 * given ("expected a whole number but got 'four'", not Java types), and the line.
 */
final class JacksonProblems {
  private JacksonProblems() {}

  /** Translates a failure to read the text into the file's records. */
  static ConfigurationException translate(
      IOException failure, InfrastructureLoader.Format format, SourceLines lines) {
    if (failure instanceof UnrecognizedPropertyException e) {
      String field = path(e);
      return new ConfigurationException(
          field,
          "unknown field '"
              + e.getPropertyName()
              + "'; known fields: "
              + new java.util.TreeSet<>(
                  e.getKnownPropertyIds().stream().map(String::valueOf).toList())
              + lines.best(field, e.getLocation()),
          e);
    }
    if (failure instanceof MismatchedInputException e) {
      String field = path(e);
      if (field.isEmpty() && String.valueOf(e.getOriginalMessage()).startsWith("No content")) {
        return new ConfigurationException("(document)", "is empty" + lines.at(null), e);
      }
      return new ConfigurationException(
          field.isEmpty() ? "(document)" : field,
          mismatch(e) + lines.best(field, e.getLocation()),
          e);
    }
    if (failure instanceof JsonMappingException e) {
      String field = path(e);
      return new ConfigurationException(
          field.isEmpty() ? "(document)" : field,
          firstLine(e.getOriginalMessage()) + lines.best(field, e.getLocation()),
          e);
    }
    if (failure instanceof JsonProcessingException e) {
      String why = syntaxError(e.getOriginalMessage());
      if (why.contains("exceeds the limit")) {
        why += " Split the file, or write it as JSON, which has no such limit";
      }
      return new ConfigurationException(
          "(document)", "not valid " + format + ": " + why + lines.at(problemAt(e, format)), e);
    }
    return new ConfigurationException(
        "(document)", "cannot be read: " + failure.getMessage(), failure);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "invalid value";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /**
   * A parser's message without the source snippets YAML adds (indented lines, "in 'reader'"), so
   * that "found character '\t' that cannot start any token" is kept on one line.
   */
  private static String syntaxError(String message) {
    if (message == null) {
      return "invalid syntax";
    }
    List<String> kept = new ArrayList<>();
    for (String l : message.split("\r?\n")) {
      String t = l.strip();
      if (t.isEmpty() || Character.isWhitespace(l.charAt(0)) || t.startsWith("in 'reader'")) {
        continue;
      }
      kept.add(t.replaceAll(" in 'reader', line \\d+, column \\d+:?$", ""));
    }
    return kept.isEmpty() ? firstLine(message) : String.join("; ", kept);
  }

  /** Where YAML saw the problem (not where the construct it was reading began). */
  private static JsonLocation problemAt(
      JsonProcessingException e, InfrastructureLoader.Format format) {
    if (format == InfrastructureLoader.Format.YAML) {
      JsonLocation mark = YamlSupport.problemMark(e.getCause());
      if (mark != null) {
        return mark;
      }
    }
    return e.getLocation();
  }

  /** "expected a whole number but got 'four'", instead of Jackson's words about Java types. */
  private static String mismatch(MismatchedInputException e) {
    Class<?> t = e.getTargetType();
    String expected;
    if (t == null) {
      return firstLine(e.getOriginalMessage());
    } else if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
      expected = "a whole number";
    } else if (t == Boolean.class || t == boolean.class) {
      expected = "true or false";
    } else if (t == String.class) {
      expected = "text";
    } else if (java.util.Collection.class.isAssignableFrom(t)) {
      expected = "a list, like [a, b]";
    } else if (Map.class.isAssignableFrom(t)) {
      expected = "a mapping of names to text, like {key: value}";
    } else if (t == PoolModel.class) {
      expected = "a pool, like {id: linux, name: Linux}";
    } else if (t == WorkerModel.class) {
      expected = "a worker, like {id: w1, endpoint: {kind: ssh, address: host}, pools: [linux]}";
    } else if (t == EndpointModel.class) {
      expected = "an endpoint, like {kind: ssh, address: host, properties: {user: deploy}}";
    } else if (t == FileModel.class) {
      expected = "a mapping with defaultPool, pools and workers";
    } else {
      return firstLine(e.getOriginalMessage());
    }
    return "expected " + expected + " but got " + given(e);
  }

  private static String given(MismatchedInputException e) {
    if (e instanceof com.fasterxml.jackson.databind.exc.InvalidFormatException) {
      Object v = ((com.fasterxml.jackson.databind.exc.InvalidFormatException) e).getValue();
      if (v instanceof String) {
        return ((String) v).isEmpty() ? "an empty value" : "'" + v + "'";
      }
      return String.valueOf(v);
    }
    String m = String.valueOf(e.getOriginalMessage());
    java.util.regex.Matcher str =
        java.util.regex.Pattern.compile("from String value \\('(.*)'\\)").matcher(m);
    if (str.find()) {
      return str.group(1).isEmpty() ? "an empty value" : "'" + str.group(1) + "'";
    }
    if (m.contains("from Object value")) {
      return "a mapping";
    }
    if (m.contains("from Array value")) {
      return "a list";
    }
    java.util.regex.Matcher other =
        java.util.regex.Pattern.compile("from ([A-Za-z-]+) value").matcher(m);
    if (other.find()) {
      return "a " + other.group(1).toLowerCase(Locale.ROOT) + " value";
    }
    return "something else (" + firstLine(e.getOriginalMessage()) + ")";
  }

  private static String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      } else if (r.getFieldName() != null) {
        if (b.length() > 0) {
          b.append('.');
        }
        b.append(r.getFieldName());
      }
    }
    return b.toString();
  }
}
