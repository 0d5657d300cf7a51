package dev.hostdeploy.manager.deployments;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.hostdeploy.manager.store.ManagerJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals deployment secrets (env values, deploy keys) and users' GitHub tokens (for the org check) for the
 * store with AES-256-GCM, under a key kept in a 0600 file in the data directory: a copy of the database
 * alone reveals nothing. Each value carries its own random nonce; its owner (the deployment's id, the user's
 * id) is bound in as associated data, so a sealed value cannot be moved to another one.
 */
public final class SecretBox {
    public static final String KEY_FILE = "secrets.key";
    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    private SecretBox(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    /** Loads the key from {@code dataDir}, making a new one (0600, written once) when there is none. */
    public static SecretBox open(Path dataDir) throws IOException {
        Path file = dataDir.resolve(KEY_FILE);
        if (!Files.exists(file)) {
            byte[] fresh = new byte[32];
            RANDOM.nextBytes(fresh);
            try {
                Files.write(Files.createFile(file, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------"))), fresh, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException raced) {
                // Another start made it first; read theirs.
            }
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
            throw new IOException(file + " must be readable by its owner only (chmod 600)");
        }
        byte[] key = Files.readAllBytes(file);
        if (key.length != 32) {
            throw new IOException(file + " must hold a 32-byte key");
        }
        return new SecretBox(key);
    }

    /** Base64 of nonce + ciphertext; null for a null map. */
    public String sealEnv(Map<String, String> env, String boundTo) {
        if (env == null) {
            return null;
        }
        try {
            return seal(ManagerJson.MAPPER.writeValueAsBytes(env), boundTo);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public Map<String, String> openEnv(String sealed, String boundTo) {
        if (sealed == null) {
            return null;
        }
        try {
            return ManagerJson.MAPPER.readValue(open(sealed, boundTo), new TypeReference<Map<String, String>>() { });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A private deploy key, bound to its deployment so a sealed key cannot be moved to another. */
    public String sealText(String text, String boundTo) {
        return text == null ? null : seal(text.getBytes(java.nio.charset.StandardCharsets.UTF_8), boundTo);
    }

    public String openText(String sealed, String boundTo) {
        return sealed == null ? null : new String(open(sealed, boundTo), java.nio.charset.StandardCharsets.UTF_8);
    }

    String seal(byte[] plain, String boundTo) {
        try {
            byte[] nonce = new byte[NONCE];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(boundTo.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            byte[] sealed = c.doFinal(plain);
            return Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE + sealed.length).put(nonce).put(sealed)
                    .array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        }
    }

    byte[] open(String sealed, String boundTo) {
        try {
            byte[] all = Base64.getDecoder().decode(sealed);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, NONCE));
            c.updateAAD(boundTo.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return c.doFinal(all, NONCE, all.length - NONCE);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("a sealed secret could not be opened (wrong " + KEY_FILE + "?)", e);
        }
    }
}
