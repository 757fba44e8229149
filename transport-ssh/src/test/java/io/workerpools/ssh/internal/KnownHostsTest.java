package io.workerpools.ssh.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** Reading and matching known-hosts lines as sshd(8) describes them (no server needed). */
class KnownHostsTest {
  private static final Path F = Path.of("/etc/ssh/ssh_known_hosts");
  private static final String KEY =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

  @Test
  void patternsMatchAsInOpenSsh() {
    assertThat(KnownHosts.matches("*.example.com", "build-1.example.com")).isTrue();
    assertThat(KnownHosts.matches("build-?.example.com", "build-10.example.com")).isFalse();
    assertThat(KnownHosts.matches("*.example.com,!db.example.com", "db.example.com")).isFalse();
    assertThat(KnownHosts.matches("!db.example.com,*.example.com", "db.example.com")).isFalse();
    assertThat(KnownHosts.matches("!db.example.com", "web.example.com"))
        .as("a negation alone matches nothing")
        .isFalse();
    assertThat(KnownHosts.matches("[10.0.0.*]:2222", "[10.0.0.7]:2222")).isTrue();
    assertThat(KnownHosts.matches("10.0.0.7", "[10.0.0.7]:2222")).isFalse();
    assertThat(KnownHosts.matches("Build-1.EXAMPLE.com", "build-1.example.com")).isTrue();
  }

  @Test
  void hashedNamesMatchOnlyTheirHost() {
    // ssh-keygen -H of "[127.0.0.1]:2222" with this salt (HMAC-SHA1, RFC 2104).
    String hashed = "|1|" + "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" + "|" + hmac("[127.0.0.1]:2222");
    assertThat(KnownHosts.matches(hashed, "[127.0.0.1]:2222")).isTrue();
    assertThat(KnownHosts.matches(hashed, "[127.0.0.1]:2223")).isFalse();
  }

  private static String hmac(String name) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
      mac.init(new javax.crypto.spec.SecretKeySpec(new byte[20], "HmacSHA1"));
      return java.util.Base64.getEncoder()
          .encodeToString(mac.doFinal(name.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void linesAreReadWithTheirMarkers() {
    assertThat(KnownHosts.parse(F, 1, "  # comment")).isNull();
    assertThat(KnownHosts.parse(F, 1, "")).isNull();
    KnownHosts.Entry e = KnownHosts.parse(F, 3, "@revoked * " + KEY + " old key");
    assertThat(e.marker()).isEqualTo(KnownHosts.Marker.REVOKED);
    assertThat(e.hosts()).isEqualTo("*");
    assertThat(e.keyType()).isEqualTo("ssh-ed25519");
    assertThat(KnownHosts.parse(F, 1, "h\t" + KEY.replace(' ', '\t')).marker())
        .isEqualTo(KnownHosts.Marker.NONE);
    assertThat(KnownHosts.parse(F, 1, "h some-future-key-type AAAA"))
        .as("an unsupported key type is skipped, not an error")
        .isNull();
  }

  @Test
  void aBrokenLineIsAnErrorNamingTheFileAndLine() {
    for (String bad :
        java.util.List.of(
            "@cert-authorty * " + KEY,
            "host-only",
            "h ssh-ed25519",
            "h ssh-ed25519 !!!",
            "h ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQC",
            "|1|bad|hash " + KEY)) {
      assertThatThrownBy(() -> KnownHosts.parse(F, 7, bad))
          .as(bad)
          .isInstanceOf(KnownHosts.Unusable.class)
          .hasMessageContaining(F + " line 7");
    }
  }

  @Property(tries = 200)
  void aPatternMatchesItselfAndAStarMatchesEverything(
      @ForAll @AlphaChars @StringLength(min = 1, max = 20) String host) {
    String h = host.toLowerCase(java.util.Locale.ROOT);
    assertThat(KnownHosts.matches(host, h)).isTrue();
    assertThat(KnownHosts.matches("*", h)).isTrue();
    assertThat(KnownHosts.matches("*,!" + host, h)).isFalse();
    assertThat(KnownHosts.glob(h.substring(0, h.length() - 1) + "?", h)).isTrue();
  }
}
