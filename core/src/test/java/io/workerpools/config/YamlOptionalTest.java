package io.workerpools.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SnakeYAML is optional: core loaded without it (and without jackson-dataformat-yaml) still reads
 * JSON, and a YAML read fails with a ConfigurationException that says which dependency to add.
 */
class YamlOptionalTest {
  private static final String JSON =
      "{\"defaultPool\": \"default\", \"pools\": [{\"id\": \"default\", \"name\": \"Default\"}]}";

  @Test
  void withoutSnakeYamlJsonWorksAndYamlFailsNamingTheDependency() throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (entry.contains("snakeyaml") || entry.contains("jackson-dataformat-yaml")) {
        continue;
      }
      urls.add(Path.of(entry).toUri().toURL());
    }
    try (URLClassLoader noYaml =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThat(present(noYaml, "org.yaml.snakeyaml.LoaderOptions")).isFalse();
      Class<?> loader = noYaml.loadClass(InfrastructureLoader.class.getName());
      Class<?> format = noYaml.loadClass(InfrastructureLoader.Format.class.getName());
      Method parse = loader.getMethod("parse", String.class, format);
      Object json = format.getField("JSON").get(null);
      Object yaml = format.getField("YAML").get(null);

      Object infra = parse.invoke(null, JSON, json);
      assertThat(infra.getClass().getSimpleName()).isEqualTo("Infrastructure");

      Throwable failure = null;
      try {
        parse.invoke(null, "defaultPool: default\n", yaml);
      } catch (InvocationTargetException e) {
        failure = e.getCause();
      }
      assertThat(failure).isNotNull();
      assertThat(failure.getClass().getName()).isEqualTo("io.workerpools.ConfigurationException");
      assertThat(failure.getMessage())
          .contains("org.yaml:snakeyaml")
          .contains("jackson-dataformat-yaml")
          .contains("JSON");
    }
  }

  private static boolean present(ClassLoader cl, String name) {
    try {
      Class.forName(name, false, cl);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
