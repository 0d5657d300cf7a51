package dev.hostdeploy.worker.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.SshKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshKeysTest {
    @TempDir
    Path dir;

    /** A real public key made by ssh-keygen. */
    private String keygen(String type, int bits) throws Exception {
        Path key = dir.resolve(type + bits);
        List<String> cmd = bits > 0
                ? List.of("ssh-keygen", "-q", "-t", type, "-b", Integer.toString(bits), "-N", "", "-C", "member@example", "-f", key.toString())
                : List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", "member@example", "-f", key.toString());
        Host.Result r = Host.run(cmd, 60);
        assertThat(r.code()).as(r.out()).isZero();
        return Files.readString(dir.resolve(key.getFileName() + ".pub")).strip();
    }

    @Test
    void acceptsRealEd25519EcdsaAndRsaKeysWithTheirSizes() throws Exception {
        assertThat(SshKeys.parse(keygen("ed25519", 0), "k").bits()).isEqualTo(256);
        assertThat(SshKeys.parse(keygen("ecdsa", 256), "k").type()).isEqualTo("ecdsa-sha2-nistp256");
        assertThat(SshKeys.parse(keygen("ecdsa", 384), "k").bits()).isEqualTo(384);
        assertThat(SshKeys.parse(keygen("ecdsa", 521), "k").bits()).isEqualTo(521);
        SshKeys.Key rsa = SshKeys.parse(keygen("rsa", 2048), "k");
        assertThat(rsa.bits()).isEqualTo(2048);
        assertThat(rsa.comment()).isEqualTo("member@example");
    }

    @Test
    void fingerprintMatchesSshKeygen() throws Exception {
        String pub = keygen("ed25519", 0);
        Files.writeString(dir.resolve("fp.pub"), pub);
        Host.Result r = Host.run(List.of("ssh-keygen", "-l", "-f", dir.resolve("fp.pub").toString()), 30);
        assertThat(r.out()).contains(SshKeys.parse(pub, "k").fingerprint());
    }

    @Test
    void refusesShortRsaKeysNamingTheBitCount() throws Exception {
        String weak = keygen("rsa", 1024);
        assertThatThrownBy(() -> SshKeys.parse(weak, "sshKeys[0]"))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo("sshKeys[0]");
                    assertThat(e.getMessage()).contains("1024 bits").contains("2048");
                });
    }

    @Test
    void refusesDsaUnknownTypesAndGarbageWithTheReason() throws Exception {
        String ed = keygen("ed25519", 0);
        String blob = ed.split(" ")[1];
        assertRefused("not a key", "base64");
        assertRefused("ssh-ed25519", "expected 'TYPE BASE64");
        assertRefused("ssh-rsa " + blob, "does not match its data");
        assertRefused("command=\"/bin/sh\" " + ed, "options (command=, from=, ...) are not accepted");
        assertRefused("ssh-ed25519 " + Base64.getEncoder().encodeToString(
                java.util.Arrays.copyOf(Base64.getDecoder().decode(blob), 40)), "truncated");
        byte[] longer = java.util.Arrays.copyOf(Base64.getDecoder().decode(blob), Base64.getDecoder().decode(blob).length + 3);
        assertRefused("ssh-ed25519 " + Base64.getEncoder().encodeToString(longer), "trailing bytes");
        assertRefused(ed + "\nssh-ed25519 " + blob, "single OpenSSH public key line");
        String dsa = dsaBlob();
        assertRefused("ssh-dss " + dsa, "DSA is insecure");
        assertRefused("sk-ssh-ed25519@openssh.com " + skBlob(), "unsupported key type");
    }

    /** A DSA-shaped blob: type string and four mpints, enough to reach the type check. */
    private static String dsaBlob() {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        writeString(b, "ssh-dss".getBytes());
        for (int i = 0; i < 4; i++) {
            writeString(b, new byte[] {1, 2, 3});
        }
        return Base64.getEncoder().encodeToString(b.toByteArray());
    }

    private static String skBlob() {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        writeString(b, "sk-ssh-ed25519@openssh.com".getBytes());
        writeString(b, new byte[32]);
        writeString(b, "ssh:".getBytes());
        return Base64.getEncoder().encodeToString(b.toByteArray());
    }

    private static void writeString(java.io.ByteArrayOutputStream b, byte[] s) {
        b.write(s.length >>> 24);
        b.write(s.length >>> 16);
        b.write(s.length >>> 8);
        b.write(s.length);
        b.writeBytes(s);
    }

    private static void assertRefused(String key, String reason) {
        assertThatThrownBy(() -> SshKeys.parse(key, "sshKeys[0]"))
                .as(key)
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.getMessage()).contains(reason);
                });
    }

    @Test
    void authorizedKeysHoldsOneNormalizedLinePerDistinctKey() throws Exception {
        String ed = keygen("ed25519", 0);
        List<SshKeys.Key> keys = SshKeys.parseAll(List.of("  " + ed + "  ", ed), "sshKeys");
        assertThat(keys).hasSize(1);
        assertThat(SshKeys.authorizedKeys(keys)).endsWith(ed + "\n");
    }
}
