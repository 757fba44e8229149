package io.workerpools.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The line of each field path in the text ({@code workers[2].pools[0]}), read once with the
 * streaming parser, so that every error can say where in the file it is.
 */
final class SourceLines {
  private final String source;
  private final Map<String, Integer> byPath = new HashMap<>();

  SourceLines(String source) {
    this.source = source;
  }

  void index(ObjectMapper mapper, String text) throws IOException {
    try (JsonParser p = mapper.createParser(text)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          continue;
        }
        JsonStreamContext ctx = p.getParsingContext();
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          ctx = ctx.getParent();
        }
        byPath.putIfAbsent(pathOf(ctx), p.currentTokenLocation().getLineNr());
      }
    }
  }

  private static String pathOf(JsonStreamContext ctx) {
    List<String> segs = new ArrayList<>();
    for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inArray()) {
        segs.add("[" + Math.max(0, c.getCurrentIndex()) + "]");
      } else if (c.getCurrentName() != null) {
        segs.add("." + c.getCurrentName());
      }
    }
    StringBuilder b = new StringBuilder();
    for (int i = segs.size() - 1; i >= 0; i--) {
      b.append(segs.get(i));
    }
    return b.length() > 0 && b.charAt(0) == '.' ? b.substring(1) : b.toString();
  }

  /** " (line N of source)" for the path or its nearest parent found in the text. */
  String of(String path) {
    String p = path;
    while (true) {
      Integer line = byPath.get(p);
      if (line != null && line > 0) {
        return suffix(line);
      }
      int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) {
        return "";
      }
      p = p.substring(0, cut);
    }
  }

  /** The line of the field if the text has it, else the parser's location. */
  String best(String path, JsonLocation loc) {
    Integer line = path.isEmpty() ? null : byPath.get(path);
    return line != null && line > 0 ? suffix(line) : at(loc);
  }

  String at(JsonLocation loc) {
    return loc == null || loc.getLineNr() <= 0
        ? (source.isEmpty() ? "" : " (in " + source + ")")
        : suffix(loc.getLineNr());
  }

  private String suffix(int line) {
    return " (line " + line + (source.isEmpty() ? "" : " of " + source) + ")";
  }
}
