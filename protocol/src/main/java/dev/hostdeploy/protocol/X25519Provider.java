package dev.hostdeploy.protocol;

import dev.hostdeploy.protocol.X25519Keys.PrivateKey;
import dev.hostdeploy.protocol.X25519Keys.PublicKey;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyFactorySpi;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyPairGeneratorSpi;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.KeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.KeyAgreement;
import javax.crypto.KeyAgreementSpi;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * X25519 key exchange (the one group the programs' TLS offers, {@link Tls#NAMED_GROUPS}) for the whole
 * process, computed by BouncyCastle's RFC 7748 code. Every handshake makes a key pair and one agreement;
 * under C1 only (the programs' {@code -XX:TieredStopAtLevel=1}) the JDK's XDH took 0.23-0.24 ms of CPU to
 * make a key pair and 0.23-0.29 ms to agree, through this provider 0.06 and 0.16 ms (bench/handshake-crypto.sh,
 * warm; docs/operations.md, "Where the CPU goes"). JSSE asks the JCA by name: {@code KeyPairGenerator "XDH"} initialised with
 * {@link NamedParameterSpec#X25519} (the public key cast to {@link XECPublicKey}), {@code KeyFactory "XDH"}
 * for the peer's {@link XECPublicKeySpec}, and {@code KeyAgreement "XDH"} up to
 * {@code generateSecret("TlsPremasterSecret")}; hence this small provider placed first, with keys that
 * implement the JDK's XEC interfaces. X448, encoded key specs it does not recognise and keys of other
 * providers go to the JDK's own implementation; the arithmetic is BouncyCastle's, this class only adapts.
 */
final class X25519Provider extends Provider {
    private static final long serialVersionUID = 1L;
    static final String XDH = "XDH";
    static final String X25519_NAME = "X25519";
    static final int LENGTH = X25519Keys.LENGTH;
    /** Agreements computed here: the tests see that JSSE's key exchange came this way. */
    static final LongAdder AGREEMENTS = new LongAdder();
    private static volatile boolean installed;

    private X25519Provider() {
        super("HostdeployX25519", "1.0", "X25519 (XDH) key pairs, keys and agreement by BouncyCastle's RFC 7748 code");
        Map<String, String> keyClasses = Map.of("SupportedKeyClasses",
                "java.security.interfaces.XECPublicKey|java.security.interfaces.XECPrivateKey");
        // "XDH" takes X25519 here and hands X448 to the JDK; "X25519" is locked to its curve, as in SunEC.
        for (boolean locked : new boolean[] {false, true}) {
            String name = locked ? X25519_NAME : XDH;
            List<String> aliases = locked ? List.of("1.3.101.110", "OID.1.3.101.110") : List.of();
            putService(new Service(this, "KeyPairGenerator", name, Generator.class.getName(), aliases, null) {
                @Override
                public Object newInstance(Object constructorParameter) {
                    return new Generator(locked);
                }
            });
            putService(new Service(this, "KeyFactory", name, Factory.class.getName(), aliases, null) {
                @Override
                public Object newInstance(Object constructorParameter) {
                    return new Factory(locked);
                }
            });
            putService(new Service(this, "KeyAgreement", name, Agreement.class.getName(), aliases, keyClasses) {
                @Override
                public Object newInstance(Object constructorParameter) {
                    return new Agreement(locked);
                }
            });
        }
    }

    /** Places the provider first, once per process. */
    static void install() {
        if (installed) {
            return;
        }
        synchronized (X25519Provider.class) {
            if (!installed) {
                X25519.precompute();
                Security.insertProviderAt(new X25519Provider(), 1);
                installed = true;
            }
        }
    }

    static boolean isX25519(AlgorithmParameterSpec params) {
        return params instanceof NamedParameterSpec named && named.getName().equalsIgnoreCase(X25519_NAME);
    }

    /** The JDK's XDH, for what this provider does not compute; null on a runtime without SunEC. */
    private static Provider jdk() {
        return Security.getProvider("SunEC");
    }

    private static Provider jdkOrRefuse(String what) throws NoSuchAlgorithmException {
        Provider jdk = jdk();
        if (jdk == null) {
            throw new NoSuchAlgorithmException(what + " beyond X25519 needs the JDK's SunEC provider");
        }
        return jdk;
    }

    static final class Generator extends KeyPairGeneratorSpi {
        private static final SecureRandom DEFAULT_RANDOM = new SecureRandom();
        private final boolean locked;
        private SecureRandom random = DEFAULT_RANDOM;
        private KeyPairGenerator delegate;

        Generator(boolean locked) {
            this.locked = locked;
        }

        @Override
        public void initialize(int keysize, SecureRandom random) {
            if (keysize == 255) {
                use(random);
            } else if (locked) {
                throw new InvalidParameterException("X25519 keys are 255 bits, not " + keysize);
            } else {
                try {
                    delegate = KeyPairGenerator.getInstance(XDH, jdkOrRefuse(XDH));
                } catch (NoSuchAlgorithmException e) {
                    throw new InvalidParameterException(e.getMessage());
                }
                delegate.initialize(keysize, random);
            }
        }

        @Override
        public void initialize(AlgorithmParameterSpec params, SecureRandom random) throws InvalidAlgorithmParameterException {
            if (isX25519(params)) {
                use(random);
            } else if (locked) {
                throw new InvalidAlgorithmParameterException("X25519 only, not " + params);
            } else {
                try {
                    delegate = KeyPairGenerator.getInstance(XDH, jdkOrRefuse(XDH));
                } catch (NoSuchAlgorithmException e) {
                    throw new InvalidAlgorithmParameterException(e.getMessage(), e);
                }
                delegate.initialize(params, random);
            }
        }

        private void use(SecureRandom random) {
            this.random = random != null ? random : DEFAULT_RANDOM;
            delegate = null;
        }

        @Override
        public KeyPair generateKeyPair() {
            if (delegate != null) {
                return delegate.generateKeyPair();
            }
            byte[] k = new byte[X25519.SCALAR_SIZE];
            X25519.generatePrivateKey(random, k);
            byte[] u = new byte[LENGTH];
            X25519.generatePublicKey(k, 0, u, 0);
            return new KeyPair(new PublicKey(u), new PrivateKey(k));
        }
    }

    static final class Factory extends KeyFactorySpi {
        private final boolean locked;

        Factory(boolean locked) {
            this.locked = locked;
        }

        @Override
        protected java.security.PublicKey engineGeneratePublic(KeySpec spec) throws InvalidKeySpecException {
            if (spec instanceof XECPublicKeySpec xec && isX25519(xec.getParams())) {
                return PublicKey.of(xec.getU());
            }
            byte[] x509Prefix = X25519Keys.X509_PREFIX;
            if (spec instanceof X509EncodedKeySpec x509 && X25519Keys.startsWith(x509.getEncoded(), x509Prefix, LENGTH)) {
                byte[] u = Arrays.copyOfRange(x509.getEncoded(), x509Prefix.length, x509Prefix.length + LENGTH);
                u[LENGTH - 1] &= 0x7f; // RFC 7748 section 5: the unused top bit is masked when decoding
                return PublicKey.of(new PublicKey(u).getU());
            }
            return jdk().generatePublic(spec);
        }

        @Override
        protected java.security.PrivateKey engineGeneratePrivate(KeySpec spec) throws InvalidKeySpecException {
            if (spec instanceof XECPrivateKeySpec xec && isX25519(xec.getParams())) {
                byte[] k = xec.getScalar();
                if (k.length != X25519.SCALAR_SIZE) {
                    throw new InvalidKeySpecException("an X25519 scalar is 32 bytes, not " + k.length);
                }
                return new PrivateKey(k.clone());
            }
            if (spec instanceof PKCS8EncodedKeySpec pkcs8
                    && X25519Keys.startsWith(pkcs8.getEncoded(), X25519Keys.PKCS8_PREFIX, X25519.SCALAR_SIZE)) {
                byte[] der = pkcs8.getEncoded();
                return new PrivateKey(Arrays.copyOfRange(der, X25519Keys.PKCS8_PREFIX.length, der.length));
            }
            return jdk().generatePrivate(spec);
        }

        @Override
        @SuppressWarnings("unchecked")
        protected <T extends KeySpec> T engineGetKeySpec(Key key, Class<T> type) throws InvalidKeySpecException {
            if (key instanceof PublicKey pub) {
                if (type.isAssignableFrom(XECPublicKeySpec.class)) {
                    return (T) new XECPublicKeySpec(NamedParameterSpec.X25519, pub.getU());
                }
                if (type.isAssignableFrom(X509EncodedKeySpec.class)) {
                    return (T) new X509EncodedKeySpec(pub.getEncoded());
                }
            } else if (key instanceof PrivateKey priv) {
                if (type.isAssignableFrom(XECPrivateKeySpec.class)) {
                    return (T) new XECPrivateKeySpec(NamedParameterSpec.X25519, priv.scalar().clone());
                }
                if (type.isAssignableFrom(PKCS8EncodedKeySpec.class)) {
                    return (T) new PKCS8EncodedKeySpec(priv.getEncoded());
                }
            } else {
                return jdk().getKeySpec(key, type);
            }
            throw new InvalidKeySpecException("an X25519 key has no " + type.getSimpleName());
        }

        @Override
        protected Key engineTranslateKey(Key key) throws InvalidKeyException {
            if (key instanceof PublicKey || key instanceof PrivateKey) {
                return key;
            }
            if (key instanceof XECPublicKey xec && isX25519(xec.getParams())) {
                return PublicKey.of(xec.getU());
            }
            if (key instanceof XECPrivateKey xec && isX25519(xec.getParams()) && xec.getScalar().isPresent()) {
                return new PrivateKey(xec.getScalar().get());
            }
            try {
                return KeyFactory.getInstance(XDH, jdkOrRefuse(XDH)).translateKey(key);
            } catch (NoSuchAlgorithmException e) {
                throw new InvalidKeyException(e.getMessage(), e);
            }
        }

        private KeyFactory jdk() throws InvalidKeySpecException {
            if (locked) {
                throw new InvalidKeySpecException("X25519 only");
            }
            try {
                return KeyFactory.getInstance(XDH, jdkOrRefuse(XDH));
            } catch (NoSuchAlgorithmException e) {
                throw new InvalidKeySpecException(e.getMessage(), e);
            }
        }
    }

    static final class Agreement extends KeyAgreementSpi {
        private final boolean locked;
        private byte[] k;
        private byte[] secret;
        private KeyAgreement delegate;

        Agreement(boolean locked) {
            this.locked = locked;
        }

        @Override
        protected void engineInit(Key key, SecureRandom random) throws InvalidKeyException {
            k = null;
            secret = null;
            delegate = null;
            if (key instanceof XECPrivateKey xec && isX25519(xec.getParams())) {
                byte[] scalar = key instanceof PrivateKey own ? own.scalar() : xec.getScalar()
                        .orElseThrow(() -> new InvalidKeyException("the private key's scalar is not readable"));
                if (scalar.length != X25519.SCALAR_SIZE) {
                    throw new InvalidKeyException("an X25519 scalar is 32 bytes, not " + scalar.length);
                }
                k = scalar;
            } else if (locked) {
                throw new InvalidKeyException("X25519 only");
            } else {
                try {
                    delegate = KeyAgreement.getInstance(XDH, jdkOrRefuse(XDH));
                } catch (NoSuchAlgorithmException e) {
                    throw new InvalidKeyException(e.getMessage(), e);
                }
                delegate.init(key, random);
            }
        }

        @Override
        protected void engineInit(Key key, AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            engineInit(key, random);
            if (params != null && delegate == null && !isX25519(params)) {
                k = null;
                throw new InvalidAlgorithmParameterException("the key is X25519, the parameters " + params);
            }
        }

        @Override
        protected Key engineDoPhase(Key key, boolean lastPhase) throws InvalidKeyException {
            if (delegate != null) {
                return delegate.doPhase(key, lastPhase);
            }
            if (k == null) {
                throw new IllegalStateException("Not initialized");
            }
            if (secret != null) {
                throw new IllegalStateException("Phase already executed");
            }
            if (!lastPhase) {
                throw new IllegalStateException("Only two party agreement supported, lastPhase must be true");
            }
            byte[] u;
            if (key instanceof PublicKey own) {
                u = own.u();
            } else if (key instanceof XECPublicKey xec && isX25519(xec.getParams())) {
                u = PublicKey.of(xec.getU()).u();
            } else {
                throw new InvalidKeyException("the peer's key is not an X25519 public key");
            }
            byte[] out = new byte[LENGTH];
            if (!X25519.calculateAgreement(k, 0, u, 0, out, 0)) {
                throw new InvalidKeyException("Point has small order"); // RFC 7748 section 6.1's all-zero check
            }
            secret = out;
            AGREEMENTS.increment();
            return null;
        }

        @Override
        protected byte[] engineGenerateSecret() {
            if (delegate != null) {
                return delegate.generateSecret();
            }
            if (secret == null) {
                throw new IllegalStateException("Not initialized correctly");
            }
            byte[] result = secret;
            secret = null; // the private key stays: another doPhase may follow, as with the JDK's
            return result;
        }

        @Override
        protected int engineGenerateSecret(byte[] sharedSecret, int offset) throws ShortBufferException {
            if (delegate != null) {
                return delegate.generateSecret(sharedSecret, offset);
            }
            if (secret == null) {
                throw new IllegalStateException("Not initialized correctly");
            }
            if (sharedSecret.length - offset < LENGTH) {
                throw new ShortBufferException("needs " + LENGTH + " bytes");
            }
            System.arraycopy(engineGenerateSecret(), 0, sharedSecret, offset, LENGTH);
            return LENGTH;
        }

        @Override
        protected SecretKey engineGenerateSecret(String algorithm) throws NoSuchAlgorithmException {
            if (delegate != null) {
                try {
                    return delegate.generateSecret(algorithm);
                } catch (InvalidKeyException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (!"TlsPremasterSecret".equals(algorithm)) {
                throw new NoSuchAlgorithmException("Only supported for algorithm TlsPremasterSecret"); // as the JDK's
            }
            return new SecretKeySpec(engineGenerateSecret(), algorithm);
        }
    }
}
