package io.workerpools.ssh;

import io.workerpools.ConfigurationException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How to log in to an SSH worker: a private key (OpenSSH or PEM format; ed25519, ECDSA or RSA;
 * optionally protected by a passphrase) or a password. Returned by the host's {@link
 * SshCredentialProvider}. {@code toString()} never shows a secret.
 */
public sealed interface SshCredentials permits SshCredentials.PrivateKey, SshCredentials.Password {

  /** A private key read from a file when a connection is made. */
  static SshCredentials privateKeyFile(Path file) {
    return new PrivateKey(Optional.of(file), Optional.empty(), Optional.empty());
  }

  /** A private key read from a file, protected by a passphrase. */
  static SshCredentials privateKeyFile(Path file, String passphrase) {
    return new PrivateKey(Optional.of(file), Optional.empty(), Optional.of(passphrase));
  }

  /** A private key given as text (the contents of an OpenSSH or PEM key file). */
  static SshCredentials privateKey(String keyText, Optional<String> passphrase) {
    return new PrivateKey(Optional.empty(), Optional.of(keyText), passphrase);
  }

  /** A password. */
  static SshCredentials password(String password) {
    return new Password(password);
  }

  /**
   * A private key, from exactly one of a file or text.
   *
   * @param file a key file (OpenSSH or PEM format)
   * @param keyText the key file's contents
   * @param passphrase the key's passphrase, if it has one
   */
  record PrivateKey(Optional<Path> file, Optional<String> keyText, Optional<String> passphrase)
      implements SshCredentials {
    public PrivateKey {
      file = file == null ? Optional.empty() : file;
      keyText = keyText == null ? Optional.empty() : keyText;
      passphrase = passphrase == null ? Optional.empty() : passphrase;
      if (file.isPresent() == keyText.isPresent()) {
        throw new ConfigurationException(
            "credentials.privateKey", "give exactly one of a key file or the key's text");
      }
      keyText.ifPresent(
          t -> {
            if (t.isBlank()) {
              throw new ConfigurationException("credentials.privateKey", "the key text is empty");
            }
          });
    }

    @Override
    public String toString() {
      return "PrivateKey["
          + file.map(Path::toString).orElse("<inline key>")
          + (passphrase.isPresent() ? ", with passphrase" : "")
          + "]";
    }
  }

  /** A password. */
  record Password(String password) implements SshCredentials {
    public Password {
      Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
      return "Password[********]";
    }
  }
}
