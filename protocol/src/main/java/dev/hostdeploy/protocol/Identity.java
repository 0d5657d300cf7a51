package dev.hostdeploy.protocol;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A component's own key pair (EC P-256) and self-signed certificate. On disk: {@code key.pem}
 * (PKCS#8, mode 0600) and {@code cert.pem} in the component's identity directory.
 */
public final class Identity {
    public static final String KEY_FILE = "key.pem";
    public static final String CERT_FILE = "cert.pem";
    /** Long-lived on purpose: trust is pinned to the key, so there is no CA to renew against. */
    static final Duration DEFAULT_VALIDITY = Duration.ofDays(3650);

    private final PrivateKey privateKey;
    private final X509Certificate certificate;
    private final String fingerprint;

    private Identity(PrivateKey privateKey, X509Certificate certificate) {
        this.privateKey = privateKey;
        this.certificate = certificate;
        this.fingerprint = Fingerprints.of(certificate);
    }

    public static Identity of(PrivateKey privateKey, X509Certificate certificate) {
        return new Identity(privateKey, certificate);
    }

    /** A fresh in-memory identity valid from now for ten years. */
    public static Identity generate(String commonName) {
        Instant now = Instant.now();
        return generate(commonName, now.minus(Duration.ofMinutes(5)), now.plus(DEFAULT_VALIDITY));
    }

    /** A fresh in-memory identity with the given validity window (tests make expired ones with it). */
    public static Identity generate(String commonName, Instant notBefore, Instant notAfter) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = generator.generateKeyPair();
            X500Name name = new X500Name("CN=" + commonName.replaceAll("[^A-Za-z0-9._-]", "_"));
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    name, new BigInteger(128, new SecureRandom()), Date.from(notBefore), Date.from(notAfter),
                    name, pair.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509CertificateHolder holder = builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(holder);
            return new Identity(pair.getPrivate(), certificate);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot make a key pair and certificate", e);
        }
    }

    public static boolean exists(Path dir) {
        return Files.exists(dir.resolve(KEY_FILE)) && Files.exists(dir.resolve(CERT_FILE));
    }

    /** Loads the identity in {@code dir}, creating it first if there is none. Never replaces a key. */
    public static Identity loadOrCreate(Path dir, String commonName) throws IOException {
        if (exists(dir)) {
            return load(dir);
        }
        Files.createDirectories(dir);
        Identity identity = generate(commonName);
        identity.save(dir);
        return identity;
    }

    public static Identity load(Path dir) throws IOException {
        Path keyFile = dir.resolve(KEY_FILE);
        Path certFile = dir.resolve(CERT_FILE);
        if (!exists(dir)) {
            throw new IOException("no identity in " + dir + " (run init --dir " + dir + ")");
        }
        try {
            JcaPEMKeyConverter keys = new JcaPEMKeyConverter();
            PrivateKey key;
            try (PEMParser parser = new PEMParser(new StringReader(Files.readString(keyFile)))) {
                Object o = parser.readObject();
                if (o instanceof PrivateKeyInfo info) {
                    key = keys.getPrivateKey(info);
                } else if (o instanceof PEMKeyPair pair) {
                    key = keys.getKeyPair(pair).getPrivate();
                } else {
                    throw new IOException(keyFile + " holds no private key");
                }
            }
            X509Certificate certificate;
            try (PEMParser parser = new PEMParser(new StringReader(Files.readString(certFile)))) {
                Object o = parser.readObject();
                if (!(o instanceof X509CertificateHolder holder)) {
                    throw new IOException(certFile + " holds no certificate");
                }
                certificate = new JcaX509CertificateConverter().getCertificate(holder);
            }
            return new Identity(key, certificate);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read identity in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Writes key (0600, created with that mode so it is never readable by others) and certificate. */
    public void save(Path dir) throws IOException {
        Path keyFile = dir.resolve(KEY_FILE);
        if (Files.exists(keyFile)) {
            throw new FileAlreadyExistsException(keyFile.toString(), null, "refusing to replace an existing key");
        }
        Path tmpKey = dir.resolve(KEY_FILE + ".tmp");
        Files.deleteIfExists(tmpKey);
        Files.createFile(tmpKey, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmpKey, pem(privateKey), StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Path tmpCert = dir.resolve(CERT_FILE + ".tmp");
        Files.writeString(tmpCert, pem(certificate), StandardCharsets.US_ASCII);
        Files.move(tmpCert, dir.resolve(CERT_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmpKey, keyFile, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String pem(Object o) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(o instanceof PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public String fingerprint() {
        return fingerprint;
    }
}
