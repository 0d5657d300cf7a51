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
 * with) for the whole process, signed and verified by BouncyCastle, the faster at both halves. A handshake
 * verifies the peer's signature and makes one. Under C1 only (the programs' {@code -XX:TieredStopAtLevel=1})
 * the JDK's verify, two scalar multiplications in generic field arithmetic, took 1.7 ms of CPU against
 * BouncyCastle's 0.5 ms (one combined multiplication over a P-256 field), and the JDK signed in 0.94 ms
 * against 0.64 ms (BouncyCastle 1.86, warm, bench/handshake-crypto.sh; an earlier figure that had the JDK
 * signing faster was BouncyCastle cold). At a Manager restart with 1,000 agents, signing and verifying were
 * two fifths of the Manager's CPU (docs/operations.md). The JCA offers no way to choose a provider for one
 * algorithm alone, and JSSE asks for {@code Signature.getInstance(name)}, hence this small provider placed
 * first; the rest of the JCA keeps the JDK's providers. The implementation is the maintained one; this
 * class only routes, and {@code -Dhostdeploy.tls.crypto=jdk} leaves it out ({@link Tls#configureProcess()}).
 */
final class EcdsaProvider extends Provider {
    private static final long serialVersionUID = 1L;
    static final String ALGORITHM = "SHA256withECDSA";
    /** Not installed in the JVM: asked by name here only. */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
    private static volatile boolean installed;

    private EcdsaProvider() {
        super("HostdeployEcdsa", "1.0", ALGORITHM + " by BouncyCastle");
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
            delegate = instance(BOUNCY_CASTLE);
            delegate.initSign(key);
        }

        @Override
        protected void engineInitSign(PrivateKey key, SecureRandom random) throws InvalidKeyException {
            delegate = instance(BOUNCY_CASTLE);
            delegate.initSign(key, random);
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
