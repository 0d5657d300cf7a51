package dev.hostdeploy.manager.deployments;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.util.OpenSSHPrivateKeyUtil;
import org.bouncycastle.crypto.util.OpenSSHPublicKeyUtil;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** Per-deployment SSH deploy keys for private repos: ed25519, in the formats ssh and GitHub read. */
final class DeployKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * A new key pair. {@code privateKey} is the OpenSSH private key file text (sealed at rest, handed to the
     * Worker, never shown); {@code publicKey} the {@code authorized_keys} line an admin adds on GitHub.
     */
    record KeyPair(String privateKey, String publicKey) {
        @Override
        public String toString() {
            return "KeyPair[" + publicKey + "]";
        }
    }

    private DeployKeys() {
    }

    /** Bound to the deployment and to its purpose, so a sealed key never opens as env or elsewhere. */
    private static String binding(String deploymentId) {
        return deploymentId + "/deployKey";
    }

    /** The private key sealed for storage with the deployment {@code deploymentId}. */
    static String seal(SecretBox secrets, String deploymentId, KeyPair key) {
        return secrets.sealText(key.privateKey(), binding(deploymentId));
    }

    /** The deployment's private key in clear, for one request to the Worker; null for a public repo. */
    static String open(SecretBox secrets, Deployments.Deployment d) {
        return secrets.openText(d.deployKeySealed(), binding(d.id()));
    }

    /** {@code name} is a validated deployment name, so the comment needs no escaping. */
    static KeyPair generate(String name) {
        Ed25519KeyPairGenerator gen = new Ed25519KeyPairGenerator();
        gen.init(new Ed25519KeyGenerationParameters(RANDOM));
        AsymmetricCipherKeyPair pair = gen.generateKeyPair();
        StringWriter pem = new StringWriter();
        try (PemWriter w = new PemWriter(pem)) {
            w.writeObject(new PemObject("OPENSSH PRIVATE KEY", OpenSSHPrivateKeyUtil.encodePrivateKey(pair.getPrivate())));
            w.flush();
            String pub = "ssh-ed25519 " + Base64.getEncoder().encodeToString(
                    OpenSSHPublicKeyUtil.encodePublicKey(pair.getPublic())) + " hostdeploy-" + name;
            return new KeyPair(pem.toString(), pub);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
