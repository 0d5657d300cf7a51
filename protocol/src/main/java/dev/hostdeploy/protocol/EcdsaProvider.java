package dev.hostdeploy.protocol;

import java.io.IOException;
import java.math.BigInteger;
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
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.AlgorithmParameterSpec;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * {@code SHA256withECDSA} (the TLS 1.3 scheme {@code ecdsa_secp256r1_sha256} every identity here signs
 * with) for the whole process, signed and verified by BouncyCastle, the faster at both halves. A handshake
 * verifies the peer's signature and makes one. Under C1 only (the programs' {@code -XX:TieredStopAtLevel=1})
 * the JDK's verify, two scalar multiplications in generic field arithmetic, took 1.4-1.8 ms of CPU against
 * BouncyCastle's 0.4-0.5 ms (one combined multiplication over a P-256 field); the JDK signed in 0.6-0.8 ms,
 * BouncyCastle's JCA signature in 0.6 ms and its {@link ECDSASigner} over P-256 parameters kept here in
 * 0.2 ms (bench/handshake-crypto.sh, BouncyCastle 1.86, warm; an earlier figure that had the JDK signing
 * faster measured BouncyCastle cold). BouncyCastle's JCA signature converts the JDK key's curve parameters
 * at each {@code initSign}, a new generator point each time, so the table its fixed-point multiplication
 * precomputes for the generator is recomputed for every signature; signing a P-256 key with the domain
 * parameters held here keeps that table. At a Manager restart with 1,000 agents, signing and verifying were
 * two fifths of the Manager's CPU (docs/operations.md). The JCA offers no way to choose a provider for one
 * algorithm alone, and JSSE asks for {@code Signature.getInstance(name)}, hence this small provider placed
 * first; the rest of the JCA keeps the JDK's providers. The arithmetic is BouncyCastle's; this class only
 * routes, and {@code -Dhostdeploy.tls.crypto=jdk} leaves it out ({@link Tls#configureProcess()}).
 */
final class EcdsaProvider extends Provider {
    private static final long serialVersionUID = 1L;
    static final String ALGORITHM = "SHA256withECDSA";
    /** Not installed in the JVM: asked by name here only. */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
    /** P-256 as BouncyCastle's own curve code has it; one generator point, so one precomputed table. */
    private static final ECDomainParameters P256;
    private static final ECParameterSpec P256_SPEC;

    static {
        X9ECParameters x9 = CustomNamedCurves.getByName("secp256r1");
        P256 = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1, x9.getCurve(), x9.getG(), x9.getN(), x9.getH(), x9.getSeed());
        P256_SPEC = EC5Util.convertToSpec(x9);
    }
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

    /** True for P-256 parameters, whichever provider's classes carry them. */
    static boolean isP256(ECParameterSpec params) {
        return params != null && params.getOrder().equals(P256_SPEC.getOrder())
                && params.getCofactor() == P256_SPEC.getCofactor()
                && params.getGenerator().equals(P256_SPEC.getGenerator())
                && params.getCurve().equals(P256_SPEC.getCurve());
    }

    static final class Spi extends SignatureSpi {
        /** BouncyCastle's JCA signature: verifying, and signing with a key not on P-256. */
        private Signature delegate;
        /** Signing a P-256 key: BouncyCastle's ECDSA with the domain parameters held above. */
        private ECDSASigner signer;
        private final SHA256Digest digest = new SHA256Digest();

        @Override
        protected void engineInitVerify(PublicKey key) throws InvalidKeyException {
            signer = null;
            delegate = instance(BOUNCY_CASTLE);
            delegate.initVerify(key);
        }

        @Override
        protected void engineInitSign(PrivateKey key) throws InvalidKeyException {
            engineInitSign(key, null);
        }

        @Override
        protected void engineInitSign(PrivateKey key, SecureRandom random) throws InvalidKeyException {
            if (key instanceof ECPrivateKey ec && isP256(ec.getParams())) {
                delegate = null;
                signer = new ECDSASigner();
                CipherParameters params = new ECPrivateKeyParameters(ec.getS(), P256);
                signer.init(true, random != null ? new ParametersWithRandom(params, random) : params);
                digest.reset();
            } else {
                signer = null;
                delegate = instance(BOUNCY_CASTLE);
                if (random != null) {
                    delegate.initSign(key, random);
                } else {
                    delegate.initSign(key);
                }
            }
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
            if (signer != null) {
                digest.update(b);
            } else {
                initialized().update(b);
            }
        }

        @Override
        protected void engineUpdate(byte[] b, int off, int len) throws SignatureException {
            if (signer != null) {
                digest.update(b, off, len);
            } else {
                initialized().update(b, off, len);
            }
        }

        @Override
        protected void engineUpdate(ByteBuffer input) {
            if (signer != null) {
                super.engineUpdate(input); // through engineUpdate(byte[], int, int)
                return;
            }
            try {
                initialized().update(input);
            } catch (SignatureException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        protected byte[] engineSign() throws SignatureException {
            if (signer == null) {
                return initialized().sign();
            }
            byte[] hash = new byte[digest.getDigestSize()];
            digest.doFinal(hash, 0); // and resets, ready for the next signature with the same key
            BigInteger[] rs = signer.generateSignature(hash);
            try {
                return StandardDSAEncoding.INSTANCE.encode(P256.getN(), rs[0], rs[1]);
            } catch (IOException e) {
                throw new SignatureException("cannot encode the signature", e);
            }
        }

        @Override
        protected boolean engineVerify(byte[] signature) throws SignatureException {
            if (signer != null) {
                throw new SignatureException("initialized for signing");
            }
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
