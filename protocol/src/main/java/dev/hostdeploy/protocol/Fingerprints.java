package dev.hostdeploy.protocol;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A fingerprint is {@code sha256:} and the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo, so
 * {@code openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum} gives the same hex.
 * It names the key, not the certificate: renewing a certificate on the same key keeps the trust.
 */
public final class Fingerprints {
    private static final Pattern FORMAT = Pattern.compile("sha256:[0-9a-f]{64}");

    private Fingerprints() {
    }

    public static String of(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return "sha256:" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String of(X509Certificate certificate) {
        return of(certificate.getPublicKey());
    }

    /**
     * Checks and normalizes a fingerprint given by a person: accepts upper-case hex and colons between
     * byte pairs; refuses anything else with a message that says what is expected.
     */
    public static String normalize(String fingerprint) {
        if (fingerprint == null) {
            throw new IllegalArgumentException("fingerprint is required (sha256: followed by 64 hex digits)");
        }
        String f = fingerprint.trim().toLowerCase(Locale.ROOT);
        if (f.startsWith("sha256:")) {
            f = "sha256:" + f.substring(7).replace(":", "");
        }
        if (!FORMAT.matcher(f).matches()) {
            throw new IllegalArgumentException(
                    "bad fingerprint '" + fingerprint + "': expected sha256: followed by 64 hex digits");
        }
        return f;
    }

    public static boolean isValid(String fingerprint) {
        try {
            normalize(fingerprint);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
