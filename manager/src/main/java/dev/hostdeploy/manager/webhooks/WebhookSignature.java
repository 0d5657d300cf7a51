package dev.hostdeploy.manager.webhooks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** GitHub's {@code X-Hub-Signature-256}: {@code sha256=} and the hex HMAC-SHA256 of the raw body. */
public final class WebhookSignature {
    static final String PREFIX = "sha256=";

    private final SecretKeySpec key;

    private WebhookSignature(byte[] secret) {
        this.key = secret == null ? null : new SecretKeySpec(secret, "HmacSHA256");
    }

    /** From {@code --webhook-secret-file} (its trailing newline dropped); none configured: every delivery is refused. */
    public static WebhookSignature fromFile(Path file) throws IOException {
        if (file == null) {
            return new WebhookSignature(null);
        }
        String secret = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (secret.isEmpty()) {
            throw new IOException("--webhook-secret-file " + file + " is empty");
        }
        return new WebhookSignature(secret.getBytes(StandardCharsets.UTF_8));
    }

    public boolean configured() {
        return key != null;
    }

    /** Whether {@code header} is the signature of {@code body}, compared in constant time. */
    public boolean verify(byte[] body, String header) {
        if (key == null || header == null || !header.startsWith(PREFIX)) {
            return false;
        }
        byte[] given = header.substring(PREFIX.length()).trim().toLowerCase(java.util.Locale.ROOT)
                .getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(sign(body).getBytes(StandardCharsets.US_ASCII), given);
    }

    String sign(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }
}
