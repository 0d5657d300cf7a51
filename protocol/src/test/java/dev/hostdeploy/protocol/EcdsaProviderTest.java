package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The process-wide SHA256withECDSA the handshakes use: BouncyCastle's signatures and verification, the JDK's interoperating. */
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

    @Test
    void aKeyOnAnotherCurveIsSignedTooAndTheJdkVerifiesIt() throws Exception {
        java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC", "SunEC");
        generator.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        java.security.KeyPair pair = generator.generateKeyPair();
        byte[] message = "a transcript".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance(EcdsaProvider.ALGORITHM);
        signer.initSign(pair.getPrivate());
        signer.update(java.nio.ByteBuffer.wrap(message));
        byte[] signature = signer.sign();
        assertThat(signer.getProvider().getName()).isEqualTo("HostdeployEcdsa");
        Signature jdk = Signature.getInstance(EcdsaProvider.ALGORITHM, "SunEC");
        jdk.initVerify(pair.getPublic());
        jdk.update(message);
        assertThat(jdk.verify(signature)).isTrue();
    }

    @Test
    void oneSignerSignsManyMessagesAndEachVerifies() throws Exception {
        Identity id = ids.get("agent");
        Signature signer = Signature.getInstance(EcdsaProvider.ALGORITHM);
        signer.initSign(id.privateKey());
        for (int i = 0; i < 3; i++) {
            byte[] message = ("message " + i).getBytes(StandardCharsets.UTF_8);
            signer.update(java.nio.ByteBuffer.wrap(message)); // the ByteBuffer path, as a stream would feed it
            byte[] signature = signer.sign();
            Signature jdk = Signature.getInstance(EcdsaProvider.ALGORITHM, "SunEC");
            jdk.initVerify(id.certificate().getPublicKey());
            jdk.update(message);
            assertThat(jdk.verify(signature)).as("message %d", i).isTrue();
        }
    }

    private static boolean verify(Identity id, byte[] message, byte[] signature) throws Exception {
        Signature verifier = Signature.getInstance(EcdsaProvider.ALGORITHM);
        verifier.initVerify(id.certificate().getPublicKey());
        verifier.update(message);
        return verifier.verify(signature);
    }
}
