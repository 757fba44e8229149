package io.workerpools.model;

import java.util.Locale;

/** The language a step's script is written in. A worker advertises the syntaxes it can run. */
public enum ScriptSyntax {
  BASH,
  SH,
  POWERSHELL,
  PYTHON;

  /** Parses a name case-insensitively ({@code bash}, {@code PowerShell}, ...). */
  public static ScriptSyntax parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new io.workerpools.ConfigurationException(
          "syntax",
          "unknown script syntax '" + name + "': use one of bash, sh, powershell, python");
    }
  }
}
