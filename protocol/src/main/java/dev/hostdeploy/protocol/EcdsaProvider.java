package dev.hostdeploy.protocol;

import java.nio.ByteBuffer;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.security.spec.AlgorithmParameterSpec;
import java.util.List;
import java.util.Map;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * {@code SHA256withECDSA} (the TLS 1.3 scheme {@code ecdsa_secp256r1_sha256} every identity here signs
 * with) for the whole process, verified by BouncyCastle and signed by the JDK, each the faster at its half.
 * A handshake verifies the peer's signature and makes one. Under C1 only (the programs'
 * {@code -XX:TieredStopAtLevel=1}) the JDK's verify, two scalar multiplications in generic field
 * arithmetic, took 3.2 ms against BouncyCastle's 0.9 ms (one combined multiplication over a P-256
 * field), while the JDK signed in 0.8 ms against 1.3 ms; at a Manager restart with 1,000 agents,
 * verification was a quarter of the Manager's CPU (docs/operations.md). The JCA offers no way to choose
 * a provider for verifying alone, and JSSE asks for {@code Signature.getInstance(name)}, hence this
 * small provider placed first. Both implementations are the maintained ones; this class only routes.
 */
final class EcdsaProvider extends Provider {
    private static final long serialVersionUID = 1L;
    static final String ALGORITHM = "SHA256withECDSA";
    /** Not installed in the JVM: asked by name here only. */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
    private static volatile boolean installed;

    private EcdsaProvider() {
        super("HostdeployEcdsa", "1.0", ALGORITHM + ": BouncyCastle verifies, the JDK signs");
        putService(new Service(this, "Signature", ALGORITHM, Spi.class.getName(),
                List.of("1.2.840.10045.4.3.2", "OID.1.2.840.10045.4.3.2"),
                Map.of("SupportedKeyClasses", "java.security.interfaces.ECPublicKey|java.security.interfaces.ECPrivateKey")) {
            @Override
            public Object newInstance(Object constructorParameter) {
                return new Spi();
            }
        });
    }

    /** Places the provider first, once per process. */
    static void install() {
        if (installed) {
            return;
        }
        synchronized (EcdsaProvider.class) {
            if (!installed) {
                Security.insertProviderAt(new EcdsaProvider(), 1);
                installed = true;
            }
        }
    }

    static final class Spi extends SignatureSpi {
        private Signature delegate;

        @Override
        protected void engineInitVerify(PublicKey key) throws InvalidKeyException {
            delegate = instance(BOUNCY_CASTLE);
            delegate.initVerify(key);
        }

        @Override
        protected void engineInitSign(PrivateKey key) throws InvalidKeyException {
            delegate = instance(signer());
            delegate.initSign(key);
        }

        @Override
        protected void engineInitSign(PrivateKey key, SecureRandom random) throws InvalidKeyException {
            delegate = instance(signer());
            delegate.initSign(key, random);
        }

        /** The JDK's own EC provider; BouncyCastle where a trimmed runtime left it out. */
        private static Provider signer() {
            Provider jdk = Security.getProvider("SunEC");
            return jdk != null ? jdk : BOUNCY_CASTLE;
        }

        private static Signature instance(Provider provider) {
            try {
                return Signature.getInstance(ALGORITHM, provider);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(provider.getName() + " has no " + ALGORITHM, e);
            }
        }

        private Signature initialized() throws SignatureException {
            if (delegate == null) {
                throw new SignatureException("not initialized");
            }
            return delegate;
        }

        @Override
        protected void engineUpdate(byte b) throws SignatureException {
            initialized().update(b);
        }

        @Override
        protected void engineUpdate(byte[] b, int off, int len) throws SignatureException {
            initialized().update(b, off, len);
        }

        @Override
        protected void engineUpdate(ByteBuffer input) {
            try {
                initialized().update(input);
            } catch (SignatureException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        protected byte[] engineSign() throws SignatureException {
            return initialized().sign();
        }

        @Override
        protected boolean engineVerify(byte[] signature) throws SignatureException {
            return initialized().verify(signature);
        }

        @Override
        protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
            if (params != null) {
                throw new InvalidAlgorithmParameterException(ALGORITHM + " takes no parameters");
            }
        }

        @Override
        @Deprecated
        protected void engineSetParameter(String param, Object value) {
            throw new InvalidParameterException(ALGORITHM + " takes no parameters");
        }

        @Override
        @Deprecated
        protected Object engineGetParameter(String param) {
            throw new InvalidParameterException(ALGORITHM + " takes no parameters");
        }
    }
}
