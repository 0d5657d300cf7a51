package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyAgreement;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The process-wide X25519 the handshakes use: BouncyCastle's arithmetic behind the JDK's XDH API, as JSSE calls it. */
@Timeout(60)
class X25519ProviderTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    static {
        Tls.configureProcess();
    }

    // RFC 7748 section 6.1
    private static final String ALICE_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private static final String ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private static final String BOB_PRIVATE = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private static final String BOB_PUBLIC = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private static final String SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    @Test
    void theRfc7748VectorsAgreeThroughTheJcaAsJsseCallsIt() throws Exception {
        KeyFactory factory = KeyFactory.getInstance("XDH");
        assertThat(factory.getProvider().getName()).isEqualTo("HostdeployX25519");
        PrivateKey alice = factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, hex(ALICE_PRIVATE)));
        PrivateKey bob = factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, hex(BOB_PRIVATE)));

        assertThat(agree(alice, publicKey(BOB_PUBLIC))).isEqualTo(SHARED);
        assertThat(agree(bob, publicKey(ALICE_PUBLIC))).isEqualTo(SHARED);
        // u as JSSE reads it off the wire (little-endian) round-trips through the key
        assertThat(wire((XECPublicKey) publicKey(ALICE_PUBLIC))).isEqualTo(ALICE_PUBLIC);
    }

    @Test
    void keysMadeHereAgreeWithTheJdksOwnBothWays() throws Exception {
        KeyPairGenerator ours = KeyPairGenerator.getInstance("XDH");
        ours.initialize(NamedParameterSpec.X25519);
        assertThat(ours.getProvider().getName()).isEqualTo("HostdeployX25519");
        KeyPair here = ours.generateKeyPair();
        KeyPairGenerator sunEc = KeyPairGenerator.getInstance("XDH", "SunEC");
        sunEc.initialize(NamedParameterSpec.X25519);
        KeyPair jdk = sunEc.generateKeyPair();

        KeyAgreement jdkAgreement = KeyAgreement.getInstance("XDH", "SunEC");
        jdkAgreement.init(jdk.getPrivate());
        jdkAgreement.doPhase(here.getPublic(), true);
        String jdkSide = HexFormat.of().formatHex(jdkAgreement.generateSecret());
        assertThat(agree(here.getPrivate(), jdk.getPublic())).isEqualTo(jdkSide);

        // The encodings are the standard ones: the JDK reads a public key made here.
        PublicKey decoded = KeyFactory.getInstance("XDH", "SunEC").generatePublic(new X509EncodedKeySpec(here.getPublic().getEncoded()));
        assertThat(((XECPublicKey) decoded).getU()).isEqualTo(((XECPublicKey) here.getPublic()).getU());
    }

    @Test
    void aPeerKeyOfSmallOrderIsRefused() throws Exception {
        KeyAgreement agreement = KeyAgreement.getInstance("XDH");
        agreement.init(KeyFactory.getInstance("XDH").generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, hex(ALICE_PRIVATE))));
        PublicKey zero = KeyFactory.getInstance("XDH").generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, BigInteger.ZERO));
        assertThatThrownBy(() -> agreement.doPhase(zero, true)).isInstanceOf(InvalidKeyException.class);
    }

    @Test
    void x448IsLeftToTheJdk() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("XDH");
        generator.initialize(NamedParameterSpec.X448);
        KeyPair a = generator.generateKeyPair();
        KeyPair b = generator.generateKeyPair();
        assertThat(((NamedParameterSpec) ((XECPublicKey) a.getPublic()).getParams()).getName()).isEqualTo("X448");
        KeyAgreement one = KeyAgreement.getInstance("XDH");
        one.init(a.getPrivate());
        one.doPhase(b.getPublic(), true);
        KeyAgreement other = KeyAgreement.getInstance("XDH", "SunEC");
        other.init(b.getPrivate());
        other.doPhase(a.getPublic(), true);
        assertThat(one.generateSecret()).hasSize(56).isEqualTo(other.generateSecret());
    }

    @Test
    void anOpenSslClientCompletesMutualTls13WithAJavaServer(@TempDir Path dir) throws Exception {
        Identity python = ids.get("python-agent");
        Identity java = ids.get("java-manager");
        Path script = pythonPeer(dir, python, java);
        SSLContext context = Tls.context(java, TrustPolicy.exactly(List.of(python.fingerprint())), "agent", fp -> { });
        try (SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            SSLParameters params = server.getSSLParameters();
            Tls.restrict(params, true);
            params.setNeedClientAuth(true);
            server.setSSLParameters(params);
            long before = X25519Provider.AGREEMENTS.sum();
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                    socket.setSoTimeout(10_000);
                    String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
                    socket.getOutputStream().write(("echo " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    socket.getOutputStream().flush();
                    return socket.getSession().getProtocol();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(runPython(script, "client", Integer.toString(server.getLocalPort()))).isEqualTo("TLSv1.3 echo hello");
            assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo("TLSv1.3");
            assertThat(X25519Provider.AGREEMENTS.sum() - before).as("the Java side's X25519 agreement, computed here").isEqualTo(1);
        }
    }

    @Test
    void aJavaClientCompletesMutualTls13WithAnOpenSslServer(@TempDir Path dir) throws Exception {
        Identity python = ids.get("python-agent");
        Identity java = ids.get("java-manager");
        Path script = pythonPeer(dir, python, java);
        Process server = start(script, "server");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            int port = Integer.parseInt(out.readLine().strip());
            SSLContext context = Tls.context(java, TrustPolicy.exactly(List.of(python.fingerprint())), "agent", fp -> { });
            long before = X25519Provider.AGREEMENTS.sum();
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
                SSLParameters params = socket.getSSLParameters();
                Tls.restrict(params, false);
                socket.setSSLParameters(params);
                socket.setSoTimeout(10_000);
                OutputStream o = socket.getOutputStream();
                o.write("hello\n".getBytes(StandardCharsets.UTF_8));
                o.flush();
                String reply = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
                assertThat(reply).isEqualTo("echo hello");
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
            }
            assertThat(X25519Provider.AGREEMENTS.sum() - before).isEqualTo(1);
            assertThat(out.readLine()).as("what the OpenSSL server negotiated").isEqualTo("TLSv1.3");
            assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(server.exitValue()).isZero();
        } finally {
            server.destroy();
        }
    }

    /**
     * A one-connection OpenSSL peer (python3's ssl module), TLS 1.3 only, offering X25519 alone, presenting
     * {@code self} and trusting only {@code peer}'s self-signed certificate.
     */
    private static Path pythonPeer(Path dir, Identity self, Identity peer) throws Exception {
        // CI installs python3 (.ci/run); a machine without it fails here rather than skipping the interop check.
        assertThat(python3Exists()).as("python3 with its ssl module (apt install python3)").isTrue();
        Path selfDir = dir.resolve("self");
        Path peerDir = dir.resolve("peer");
        Files.createDirectories(selfDir);
        Files.createDirectories(peerDir);
        self.save(selfDir);
        peer.save(peerDir);
        Path script = dir.resolve("peer.py");
        Files.writeString(script, """
                import socket, ssl, sys
                mode, d = sys.argv[1], sys.argv[2]
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if mode == "client" else ssl.PROTOCOL_TLS_SERVER)
                ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
                ctx.set_ecdh_curve("X25519")  # OpenSSL 3: the only group offered or accepted
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_cert_chain(d + "/self/cert.pem", d + "/self/key.pem")
                ctx.load_verify_locations(cafile=d + "/peer/cert.pem")
                if mode == "client":
                    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[3])))) as s:
                        s.sendall(b"hello\\n")
                        print(s.version(), s.makefile().readline().strip())
                else:
                    with socket.create_server(("127.0.0.1", 0)) as listener:
                        print(listener.getsockname()[1], flush=True)
                        conn, _ = listener.accept()
                        with ctx.wrap_socket(conn, server_side=True) as s:
                            line = s.makefile().readline().strip()
                            s.sendall(("echo " + line + "\\n").encode())
                            print(s.version(), flush=True)
                """);
        return script;
    }

    private static Process start(Path script, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("python3", script.toString(), args[0], script.getParent().toString()));
        command.addAll(List.of(args).subList(1, args.length));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String runPython(Path script, String... args) throws Exception {
        Process p = start(script, args);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static boolean python3Exists() {
        try {
            return new ProcessBuilder("python3", "-c", "import ssl").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static String agree(PrivateKey own, PublicKey peer) throws Exception {
        KeyAgreement agreement = KeyAgreement.getInstance("XDH");
        agreement.init(own);
        agreement.doPhase(peer, true);
        assertThat(agreement.getProvider().getName()).isEqualTo("HostdeployX25519");
        return HexFormat.of().formatHex(agreement.generateSecret("TlsPremasterSecret").getEncoded());
    }

    /** As JSSE's XDHECredentials decodes a key share: little-endian bytes to u, then KeyFactory "XDH". */
    private static PublicKey publicKey(String littleEndianHex) throws Exception {
        byte[] u = hex(littleEndianHex);
        reverse(u);
        return KeyFactory.getInstance("XDH").generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, u)));
    }

    /** As JSSE's XDHEPossession encodes its key share. */
    private static String wire(XECPublicKey key) {
        byte[] big = key.getU().toByteArray();
        byte[] u = new byte[32];
        for (int i = 0; i < 32 && i < big.length; i++) {
            u[i] = big[big.length - 1 - i];
        }
        return HexFormat.of().formatHex(u);
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    private static void reverse(byte[] b) {
        for (int i = 0, j = b.length - 1; i < j; i++, j--) {
            byte t = b[i];
            b[i] = b[j];
            b[j] = t;
        }
    }
}
