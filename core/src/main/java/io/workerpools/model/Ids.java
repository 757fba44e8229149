package io.workerpools.model;

import io.workerpools.ConfigurationException;
import java.util.regex.Pattern;

/** Validation shared by the id types. */
final class Ids {
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

  private Ids() {}

  static String check(String kind, String value) {
    if (value == null || value.isEmpty()) {
      throw new ConfigurationException(kind, "must not be empty");
    }
    if (!VALID.matcher(value).matches()) {
      throw new ConfigurationException(
          kind,
          "'"
              + value
              + "' is not a valid id: use 1 to 128 letters, digits, '.', '_', ':', '@' or '-',"
              + " starting with a letter or digit");
    }
    return value;
  }
}
