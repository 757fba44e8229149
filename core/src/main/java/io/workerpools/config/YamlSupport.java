package io.workerpools.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * Everything that touches YAML classes, so that they load only when a YAML file is read or written
 * (see {@link Mappers#yaml()}): the mapper, and where SnakeYAML saw a problem.
 */
final class YamlSupport {
  static final ObjectMapper MAPPER =
      Mappers.configure(
          YAMLMapper.builder(
                  YAMLFactory.builder()
                      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                      .build())
              .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
              .build());

  private YamlSupport() {}

  /** Where SnakeYAML saw the problem (not where the construct it was reading began), or null. */
  static JsonLocation problemMark(Throwable cause) {
    if (cause instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked) {
      org.yaml.snakeyaml.error.Mark m = marked.getProblemMark();
      if (m != null) {
        return new JsonLocation(null, -1, m.getLine() + 1, m.getColumn() + 1);
      }
    }
    return null;
  }
}
