package dev.hostdeploy.bench.crypto;

import dev.hostdeploy.protocol.Tls;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.interfaces.XECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPublicKeySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.crypto.KeyAgreement;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * One handshake-crypto operation, one implementation, in a fresh JVM (bench/handshake-crypto.sh starts one per
 * pair so no operation warms another's code): the JVM's CPU time per operation (compiler threads included)
 * over the first 50 operations after start (cold), then, after 4 s of warm-up, over 3 s (warm). Operations are made as JSSE makes them in a TLS 1.3
 * handshake: a {@code getInstance} per operation, a P-256 key of the JDK's EC key classes (as the programs
 * load an identity's key), the peer's X25519 key rebuilt from its u.
 *
 * <p>Arguments: {@code sign|verify|keygen|agree|all} ({@code all}: the four, one handshake side's share) and
 * {@code jdk|bc|routed|before}: the JDK's SunEC, BouncyCastle (its JCA provider for ECDSA, its RFC 7748 code
 * for X25519), whatever the JCA picks after {@link Tls#configureProcess()} (what the programs' handshakes
 * get), or the routing before X25519Provider (the JDK signing and doing X25519, BouncyCastle verifying).
 * {@code handshake} is a whole mutual TLS 1.3 handshake, both sides in this JVM ({@link Handshakes}), with
 * {@code jdk} (the programs' TLS set-up with {@code -Dhostdeploy.tls.crypto=jdk}) or {@code routed}.
 * Prints {@code op impl cold-ms warm-ms}.
 */
public final class HandshakeCryptoBench {
    private static final String ECDSA = "SHA256withECDSA";
    private static final int COLD_OPS = 50;
    private static final long WARMUP_NANOS = 4_000_000_000L;
    private static final long MEASURE_NANOS = 3_000_000_000L;

    interface Op {
        int run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String op = args[0];
        String impl = args[1];
        if (!List.of("jdk", "bc", "routed", "before").contains(impl)) {
            throw new IllegalArgumentException("impl: jdk, bc, routed or before, not " + impl);
        }
        // The same work before timing in every mode, by the JDK, before any routing: the key pair (the JDK's
        // EC key classes, as the programs load them) and one signature to verify.
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC", "SunEC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ecPair = ec.generateKeyPair();
        if (impl.equals("routed")) {
            Tls.configureProcess();
        }
        Op operation;
        if (op.equals("handshake")) {
            if (impl.equals("jdk")) {
                System.setProperty("hostdeploy.tls.crypto", "jdk"); // the programs' TLS set-up without the providers
                Tls.configureProcess();
            } else if (!impl.equals("routed")) {
                throw new IllegalArgumentException("a handshake is jdk or routed, not " + impl);
            }
            operation = Handshakes.pair();
        } else if (op.equals("all")) {
            List<Op> parts = new ArrayList<>();
            for (String part : List.of("sign", "verify", "keygen", "agree")) {
                parts.add(operation(part, impl, ecPair));
            }
            operation = () -> {
                int sum = 0;
                for (Op part : parts) {
                    sum += part.run();
                }
                return sum;
            };
        } else {
            operation = operation(op, impl, ecPair);
        }
        long sink = 0;
        long start = cpu();
        for (int i = 0; i < COLD_OPS; i++) {
            sink += operation.run();
        }
        double cold = (cpu() - start) / 1e6 / COLD_OPS;
        for (long end = OS.getProcessCpuTime() + WARMUP_NANOS; OS.getProcessCpuTime() < end; ) {
            sink += operation.run();
        }
        int n = 0;
        start = cpu();
        long end = OS.getProcessCpuTime() + MEASURE_NANOS;
        do {
            sink += operation.run();
            n++;
        } while (OS.getProcessCpuTime() < end);
        double warm = (cpu() - start) / 1e6 / n;
        System.out.printf(Locale.ROOT, "%s %s %.3f %.3f %d%n", op, impl, cold, warm, sink & 1);
    }

    /**
     * Who computes {@code op} for {@code impl}: a provider asked by name, or null for the JCA's choice (routed).
     * "before" is the routing before X25519Provider: the JDK signs and does X25519, BouncyCastle verifies.
     */
    private static Provider provider(String op, String impl) {
        return switch (impl) {
            case "jdk" -> SUN_EC;
            case "bc" -> BOUNCY_CASTLE;
            case "before" -> op.equals("verify") ? BOUNCY_CASTLE : SUN_EC;
            default -> null;
        };
    }

    private static final Provider SUN_EC = Security.getProvider("SunEC");
    /** Not installed: asked by name only, as EcdsaProvider does. */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private static Op operation(String op, String impl, KeyPair ecPair) throws Exception {
        Provider provider = provider(op, impl);
        PrivateKey ecKey = ecPair.getPrivate();
        PublicKey ecPublic = ecPair.getPublic();
        byte[] transcript = new byte[130]; // TLS 1.3's signed content for SHA-256: 64 spaces, context, 0, hash
        new SecureRandom().nextBytes(transcript);
        SecureRandom random = new SecureRandom();
        Signature reference = Signature.getInstance(ECDSA, SUN_EC);
        reference.initSign(ecKey);
        reference.update(transcript);
        byte[] signature = reference.sign();
        byte[] peerK = new byte[32];
        byte[] peerU = new byte[32];
        X25519.generatePrivateKey(random, peerK);
        X25519.generatePublicKey(peerK, 0, peerU, 0);
        BigInteger peerUValue = new BigInteger(1, reversed(peerU));
        boolean bcX25519 = provider == BOUNCY_CASTLE; // BouncyCastle's RFC 7748 code itself, no JCA
        return switch (op) {
            case "sign" -> () -> {
                Signature s = provider == null ? Signature.getInstance(ECDSA) : Signature.getInstance(ECDSA, provider);
                s.initSign(ecKey, random);
                s.update(transcript);
                return s.sign().length;
            };
            case "verify" -> () -> {
                Signature s = provider == null ? Signature.getInstance(ECDSA) : Signature.getInstance(ECDSA, provider);
                s.initVerify(ecPublic);
                s.update(transcript);
                return s.verify(signature) ? 1 : 0;
            };
            case "keygen" -> bcX25519 ? () -> {
                byte[] k = new byte[32];
                byte[] u = new byte[32];
                X25519.generatePrivateKey(random, k);
                X25519.generatePublicKey(k, 0, u, 0);
                return u[0];
            } : () -> {
                KeyPairGenerator g = provider == null ? KeyPairGenerator.getInstance("XDH")
                        : KeyPairGenerator.getInstance("XDH", provider);
                g.initialize(NamedParameterSpec.X25519, random);
                KeyPair pair = g.generateKeyPair();
                return ((XECPublicKey) pair.getPublic()).getU().intValue(); // JSSE encodes u into its key share
            };
            case "agree" -> {
                byte[] ownK = new byte[32];
                X25519.generatePrivateKey(random, ownK);
                KeyPairGenerator g = provider == null ? KeyPairGenerator.getInstance("XDH")
                        : KeyPairGenerator.getInstance("XDH", bcX25519 ? SUN_EC : provider);
                g.initialize(NamedParameterSpec.X25519, random);
                PrivateKey own = g.generateKeyPair().getPrivate();
                yield bcX25519 ? () -> {
                    byte[] secret = new byte[32];
                    X25519.calculateAgreement(ownK, 0, peerU, 0, secret, 0);
                    return secret[0];
                } : () -> {
                    KeyFactory f = provider == null ? KeyFactory.getInstance("XDH") : KeyFactory.getInstance("XDH", provider);
                    PublicKey peer = f.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, peerUValue));
                    KeyAgreement a = provider == null ? KeyAgreement.getInstance("XDH") : KeyAgreement.getInstance("XDH", provider);
                    a.init(own);
                    a.doPhase(peer, true);
                    return a.generateSecret("TlsPremasterSecret").getEncoded()[0];
                };
            }
            default -> throw new IllegalArgumentException("op: sign, verify, keygen, agree, all or handshake, not " + op);
        };
    }

    /**
     * The JVM's CPU time in ns, compiler and GC threads included: what a Manager pays, and steadier than
     * elapsed time on the shared 2-core machine the benchmarks run on. Summed from each thread's schedstat,
     * since the process CPU time the JDK reports here moves in 10 ms steps (a fifth of a cold figure).
     */
    private static long cpu() throws java.io.IOException {
        long total = 0;
        try (var tasks = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/task"))) {
            for (var task : tasks) {
                try {
                    String stat = java.nio.file.Files.readString(task.resolve("schedstat"));
                    total += Long.parseLong(stat.substring(0, stat.indexOf(' ')));
                } catch (java.nio.file.NoSuchFileException gone) {
                    // a thread that ended meanwhile
                }
            }
        } catch (java.nio.file.NoSuchFileException noProc) {
            return OS.getProcessCpuTime();
        }
        return total;
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private static byte[] reversed(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }
}
