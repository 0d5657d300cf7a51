package dev.hostdeploy.schema.lxc;

import dev.hostdeploy.protocol.ProtocolException;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Parses OpenSSH public keys ("type base64 [comment]") by decoding the key blob itself, so only keys
 * sshd would really accept, and strong enough, end up in authorized_keys. No options prefix is
 * accepted: a member must not be able to smuggle {@code command=} or {@code from=} lines in.
 */
public final class SshKeys {
    public static final int MAX_KEYS = 32;
    public static final int MIN_RSA_BITS = 2048;
    private static final int MAX_RSA_BITS = 16384;
    private static final Pattern COMMENT = Pattern.compile("[\\x20-\\x7e]{0,200}");
    /** Curve name and the length of its uncompressed point (0x04 || X || Y). */
    private static final Map<String, Integer> CURVES = Map.of(
            "nistp256", 65,
            "nistp384", 97,
            "nistp521", 133);

    private SshKeys() {
    }

    /** One accepted key, normalized to a single authorized_keys line. */
    public record Key(String type, String base64, String comment, int bits) {
        public String line() {
            return comment.isEmpty() ? type + " " + base64 : type + " " + base64 + " " + comment;
        }

        /** The fingerprint format `ssh-keygen -l` prints. */
        public String fingerprint() {
            try {
                byte[] d = MessageDigest.getInstance("SHA-256").digest(Base64.getDecoder().decode(base64));
                return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Parses a list of keys; errors name the field as {@code field[i]}. Duplicates are dropped. */
    public static List<Key> parseAll(List<String> keys, String field) {
        if (keys == null) {
            return List.of();
        }
        if (keys.size() > MAX_KEYS) {
            throw ProtocolException.invalid(field, "at most " + MAX_KEYS + " keys");
        }
        List<Key> out = new ArrayList<>();
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < keys.size(); i++) {
            Key k = parse(keys.get(i), field + "[" + i + "]");
            if (seen.add(k.base64())) {
                out.add(k);
            }
        }
        return List.copyOf(out);
    }

    public static Key parse(String text, String field) {
        if (text == null || text.isBlank()) {
            throw ProtocolException.invalid(field, "is empty");
        }
        // A pasted key file ends with a newline; only a second line is refused.
        text = text.strip();
        if (text.length() > 20_000 || text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
            throw ProtocolException.invalid(field, "must be a single OpenSSH public key line");
        }
        String[] parts = text.strip().split("[ \\t]+", 3);
        if (parts.length < 2) {
            throw ProtocolException.invalid(field, "is not an OpenSSH public key (expected 'TYPE BASE64 [COMMENT]')");
        }
        String type = parts[0];
        if (type.contains("=") || type.contains("\"") || type.contains(",")) {
            throw ProtocolException.invalid(field, "authorized_keys options (command=, from=, ...) are not accepted; send the bare key");
        }
        String comment = parts.length == 3 ? parts[2].strip() : "";
        if (!COMMENT.matcher(comment).matches()) {
            throw ProtocolException.invalid(field, "comment must be printable ASCII, at most 200 characters");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw ProtocolException.invalid(field, "key data is not valid base64");
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(blob));
            String blobType = new String(readString(in), StandardCharsets.US_ASCII);
            if (!blobType.equals(type)) {
                throw ProtocolException.invalid(field, "key type '" + type + "' does not match its data ('" + blobType + "')");
            }
            int bits;
            switch (type) {
                case "ssh-ed25519" -> {
                    if (readString(in).length != 32) {
                        throw ProtocolException.invalid(field, "ed25519 key must be 32 bytes");
                    }
                    bits = 256;
                }
                case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521" -> {
                    String curve = new String(readString(in), StandardCharsets.US_ASCII);
                    String expected = type.substring("ecdsa-sha2-".length());
                    if (!curve.equals(expected)) {
                        throw ProtocolException.invalid(field, "ecdsa curve '" + curve + "' does not match " + type);
                    }
                    byte[] point = readString(in);
                    if (point.length != CURVES.get(curve) || point[0] != 0x04) {
                        throw ProtocolException.invalid(field, "ecdsa public point is malformed");
                    }
                    bits = Integer.parseInt(curve.substring("nistp".length()));
                }
                case "ssh-rsa" -> {
                    BigInteger e = new BigInteger(readString(in));
                    BigInteger n = new BigInteger(readString(in));
                    if (e.signum() <= 0 || !e.testBit(0) || n.signum() <= 0) {
                        throw ProtocolException.invalid(field, "rsa key is malformed");
                    }
                    bits = n.bitLength();
                    if (bits < MIN_RSA_BITS) {
                        throw ProtocolException.invalid(field, "rsa key has " + bits + " bits; at least "
                                + MIN_RSA_BITS + " are required");
                    }
                    if (bits > MAX_RSA_BITS) {
                        throw ProtocolException.invalid(field, "rsa key is larger than " + MAX_RSA_BITS + " bits");
                    }
                }
                case "ssh-dss" -> throw ProtocolException.invalid(field,
                        "ssh-dss (DSA) keys are refused: DSA is insecure and disabled in OpenSSH");
                default -> throw ProtocolException.invalid(field, "unsupported key type '" + type
                        + "' (accepted: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of at least "
                        + MIN_RSA_BITS + " bits)");
            }
            if (in.available() > 0) {
                throw ProtocolException.invalid(field, "key data has trailing bytes");
            }
            return new Key(type, Base64.getEncoder().encodeToString(blob), comment, bits);
        } catch (IOException e) {
            throw ProtocolException.invalid(field, "key data is truncated");
        }
    }

    private static byte[] readString(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > in.available()) {
            throw new IOException("bad length");
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return b;
    }

    public static String authorizedKeys(List<Key> keys) {
        StringBuilder sb = new StringBuilder("# Managed by hostdeploy (lxc.keys.set); changes here are replaced.\n");
        for (Key k : keys) {
            sb.append(k.line()).append('\n');
        }
        return sb.toString();
    }
}
