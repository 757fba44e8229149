package io.workerpools.tentacle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TentacleCertificateTest {
  @TempDir Path dir;

  @Test
  void createsAnEcdsaP256CertificateWithAnOwnerOnlyKeyAndReusesIt() throws Exception {
    TentacleCertificate first = TentacleCertificate.loadOrCreate(dir, "agent");
    assertThat(first.thumbprint()).matches("[0-9A-F]{64}");
    assertThat(first.certificate().getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(first.certificate().getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(TentacleCertificate.KEY_FILE))))
        .isEqualTo("rw-------");

    TentacleCertificate again = TentacleCertificate.loadOrCreate(dir, "agent");
    assertThat(again.thumbprint()).isEqualTo(first.thumbprint());
    assertThat(again.privateKey().getEncoded()).isEqualTo(first.privateKey().getEncoded());
  }

  @Test
  void aMissingKeyFileIsAClearErrorNotANewIdentity() {
    TentacleCertificate.loadOrCreate(dir, "agent");
    dir.resolve(TentacleCertificate.KEY_FILE).toFile().delete();
    assertThatThrownBy(() -> TentacleCertificate.loadOrCreate(dir, "agent"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("restore the missing file");
  }

  @Test
  void thumbprintsAreComparedCaseInsensitivelyAndValidated() {
    String t = TentacleCertificate.generate("x").thumbprint();
    assertThat(TentacleCertificate.normalizeThumbprint("f", t.toLowerCase())).isEqualTo(t);
    assertThatThrownBy(() -> TentacleCertificate.normalizeThumbprint("f", "ABC"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("64 hex digits");
  }
}
