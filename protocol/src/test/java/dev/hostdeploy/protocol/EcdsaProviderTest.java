package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The process-wide SHA256withECDSA the handshakes use: the JDK's signatures, BouncyCastle's verification. */
class EcdsaProviderTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    static {
        EcdsaProvider.install();
    }

    @Test
    void aSignatureOfAnIdentityVerifiesAndATamperedOneDoesNot() throws Exception {
        Identity id = ids.get("agent");
        byte[] message = "the handshake transcript".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance(EcdsaProvider.ALGORITHM);
        signer.initSign(id.privateKey());
        signer.update(message);
        byte[] signature = signer.sign();
        assertThat(signer.getProvider().getName()).isEqualTo("HostdeployEcdsa");

        assertThat(verify(id, message, signature)).isTrue();
        message[0] ^= 1;
        assertThat(verify(id, message, signature)).isFalse();
        message[0] ^= 1;
        assertThat(verify(ids.get("manager"), message, signature)).as("another key").isFalse();

        // Interoperable: what the JDK alone signs, the provider verifies, and the other way round.
        Signature jdk = Signature.getInstance(EcdsaProvider.ALGORITHM, "SunEC");
        jdk.initSign(id.privateKey());
        jdk.update(message);
        assertThat(verify(id, message, jdk.sign())).isTrue();
        jdk.initVerify(id.certificate().getPublicKey());
        jdk.update(message);
        assertThat(jdk.verify(signature)).isTrue();
    }

    private static boolean verify(Identity id, byte[] message, byte[] signature) throws Exception {
        Signature verifier = Signature.getInstance(EcdsaProvider.ALGORITHM);
        verifier.initVerify(id.certificate().getPublicKey());
        verifier.update(message);
        return verifier.verify(signature);
    }
}
