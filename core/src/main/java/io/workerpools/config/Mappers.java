package io.workerpools.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.workerpools.ConfigurationException;

/**
 * The Jackson mappers of both formats, strict alike: unknown fields, duplicate keys, nulls for
 * primitives and trailing tokens are errors. YAML needs {@code jackson-dataformat-yaml} and
 * SnakeYAML on the classpath (optional dependencies); without them only YAML fails, with a {@link
 * ConfigurationException} that says which dependency to add.
 */
final class Mappers {
  private static final ObjectMapper JSON =
      configure(JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  private Mappers() {}

  static ObjectMapper configure(ObjectMapper m) {
    return m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(SerializationFeature.INDENT_OUTPUT)
        .setSerializationInclusion(JsonInclude.Include.NON_EMPTY);
  }

  static ObjectMapper of(InfrastructureLoader.Format format) {
    return format == InfrastructureLoader.Format.JSON ? JSON : yaml();
  }

  /** The YAML mapper, or a clear error if YAML support is not on the classpath. */
  static ObjectMapper yaml() {
    if (!YamlAvailability.AVAILABLE) {
      throw new ConfigurationException(
          "(format)",
          "YAML needs SnakeYAML and jackson-dataformat-yaml on the classpath, and they are not"
              + " there: add the dependencies org.yaml:snakeyaml and"
              + " com.fasterxml.jackson.dataformat:jackson-dataformat-yaml (WorkerPools declares"
              + " them optional), or write the file as JSON");
    }
    return YamlSupport.MAPPER;
  }

  /** Whether YAML can be read, decided once without loading any YAML class. */
  private static final class YamlAvailability {
    static final boolean AVAILABLE =
        present("org.yaml.snakeyaml.LoaderOptions")
            && present("com.fasterxml.jackson.dataformat.yaml.YAMLFactory");

    private static boolean present(String className) {
      try {
        Class.forName(className, false, Mappers.class.getClassLoader());
        return true;
      } catch (ClassNotFoundException | LinkageError e) {
        return false;
      }
    }
  }
}
