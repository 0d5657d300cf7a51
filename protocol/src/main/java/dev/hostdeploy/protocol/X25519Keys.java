package dev.hostdeploy.protocol;

import java.math.BigInteger;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Optional;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * The keys {@link X25519Provider} hands JSSE: the JDK's XEC interfaces over RFC 7748's 32-byte forms,
 * so JSSE's casts hold, encoded (X.509, PKCS#8) as the JDK encodes them.
 */
final class X25519Keys {
    static final int LENGTH = X25519.POINT_SIZE;
    /** 2^255 - 19: a public key's u is a field element, reduced as the JDK reduces it. */
    private static final BigInteger P = BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(19));
    /** DER of SubjectPublicKeyInfo / PrivateKeyInfo for id-X25519 (RFC 8410) up to the key's 32 bytes. */
    static final byte[] X509_PREFIX = hex("302a300506032b656e032100");
    static final byte[] PKCS8_PREFIX = hex("302e020100300506032b656e04220420");

    private X25519Keys() {
    }

    /** What both keys share: X25519's parameters, and an encoding that is a fixed DER prefix and the key's bytes. */
    private abstract static class Key implements java.security.Key {
        private static final long serialVersionUID = 1L;
        final byte[] bytes;
        private final byte[] prefix;
        private final String format;

        Key(byte[] bytes, byte[] prefix, String format) {
            this.bytes = bytes;
            this.prefix = prefix;
            this.format = format;
        }

        public AlgorithmParameterSpec getParams() {
            return NamedParameterSpec.X25519;
        }

        @Override
        public String getAlgorithm() {
            return X25519Provider.XDH;
        }

        @Override
        public String getFormat() {
            return format;
        }

        @Override
        public byte[] getEncoded() {
            return concat(prefix, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    /** An X25519 public key: u, little-endian as on the wire, reduced below p. */
    static final class PublicKey extends Key implements XECPublicKey {
        private static final long serialVersionUID = 1L;

        PublicKey(byte[] u) {
            super(u, X509_PREFIX, "X.509");
        }

        static PublicKey of(BigInteger u) {
            byte[] bigEndian = u.mod(P).toByteArray();
            byte[] little = new byte[LENGTH];
            for (int i = 0, j = bigEndian.length - 1; i < LENGTH && j >= 0; i++, j--) {
                little[i] = bigEndian[j];
            }
            return new PublicKey(little);
        }

        /** The wire form, not a copy: for the provider only. */
        byte[] u() {
            return bytes;
        }

        @Override
        public BigInteger getU() {
            byte[] bigEndian = new byte[LENGTH];
            for (int i = 0; i < LENGTH; i++) {
                bigEndian[i] = bytes[LENGTH - 1 - i];
            }
            return new BigInteger(1, bigEndian);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PublicKey other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return super.hashCode();
        }

        @Override
        public String toString() {
            return "X25519 public key";
        }
    }

    /** An X25519 private key: the 32-byte scalar as RFC 7748 encodes it. */
    static final class PrivateKey extends Key implements XECPrivateKey {
        private static final long serialVersionUID = 1L;

        PrivateKey(byte[] k) {
            super(k, PKCS8_PREFIX, "PKCS#8");
        }

        /** The scalar, not a copy: for the provider only. */
        byte[] scalar() {
            return bytes;
        }

        @Override
        public Optional<byte[]> getScalar() {
            return Optional.of(bytes.clone());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PrivateKey other && java.security.MessageDigest.isEqual(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return super.hashCode();
        }

        @Override
        public String toString() {
            return "X25519 private key"; // never the scalar
        }
    }

    static boolean startsWith(byte[] der, byte[] prefix, int rest) {
        return der.length == prefix.length + rest && Arrays.equals(der, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] hex(String s) {
        return java.util.HexFormat.of().parseHex(s);
    }
}
