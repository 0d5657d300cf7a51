package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hostdeploy.protocol.testing.TestIdentities;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What a peer without credentials can make the agent write to its log. */
@Timeout(60)
class PeerLoggingTest {
    @RegisterExtension
    static TestIdentities ids = new TestIdentities();

    AgentFixture agent;
    final PrintStream original = System.out;
    final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        agent = new AgentFixture(ids.get("agent"), ids.get("manager")).start();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        System.setOut(original);
        agent.close();
    }

    /** An identity whose certificate subject is exactly {@code commonName}, control characters and all. */
    private static Identity withSubject(String commonName) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        KeyPair pair = generator.generateKeyPair();
        var name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
        Instant now = Instant.now();
        var holder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), name, pair.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
        return Identity.of(pair.getPrivate(), cert);
    }

    /** One TLS handshake as {@code who}, read until the agent ends it, so the agent has logged by then. */
    private void handshake(Identity who) throws IOException {
        var factory = Tls.context(who, TrustPolicy.exactly(List.of(ids.get("agent").fingerprint())), "agent", fp -> { })
                .getSocketFactory();
        try (SSLSocket socket = (SSLSocket) factory.createSocket("127.0.0.1", agent.port)) {
            SSLParameters params = socket.getSSLParameters();
            Tls.restrict(params, false);
            socket.setSSLParameters(params);
            socket.setSoTimeout(5000);
            socket.startHandshake();
            while (socket.getInputStream().read() != -1) {
                // until the agent's alert or close
            }
        } catch (IOException expected) {
            // the agent refused the certificate
        }
    }

    private List<String> lines() {
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static void awaitLogged(java.util.function.Supplier<List<String>> lines, String text) {
        await("a log line with " + text).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                .until(() -> lines.get().stream().anyMatch(l -> l.contains(text)));
    }

    @Test
    void certificateSubjectWithANewlineIsLoggedOnOneLineEscaped() throws Exception {
        Identity forger = withSubject("evil\n[main] INFO AgentServer - manager connected");
        handshake(forger);
        awaitLogged(this::lines, forger.fingerprint());
        List<String> lines = lines();
        assertThat(lines).filteredOn(l -> l.contains("refused manager")).singleElement().asString()
                .contains(forger.fingerprint())
                .contains("CN=evil\\n[main] INFO AgentServer - manager connected");
        assertThat(lines).noneMatch(l -> l.startsWith("[main] INFO"));
    }

    @Test
    void hundredRefusedHandshakesOfOneKeyLogABoundedNumberOfWarnings() throws Exception {
        Identity intruder = ids.get("intruder");
        for (int i = 0; i < 100; i++) {
            handshake(intruder);
        }
        awaitLogged(this::lines, intruder.fingerprint());
        List<String> refusals = lines().stream().filter(l -> l.contains("refused manager with untrusted key")).toList();
        // The first is logged; the rest within the minute are counted into the next line, if any.
        assertThat(refusals).hasSizeBetween(1, 2);
        assertThat(refusals.get(0)).contains(intruder.fingerprint());
    }

    @Test
    void logSafeEscapesControlCharactersAndCutsLongText() {
        assertThat(LogSafe.of("a\nb\rc\td\u001b[31m\\")).isEqualTo("a\\nb\\rc\\td\\u001b[31m\\\\");
        assertThat(LogSafe.of("x".repeat(500))).hasSize(LogSafe.MAX_CHARS + "...(300 more chars)".length());
        assertThat(LogSafe.of(null)).isEqualTo("null");
    }
}
