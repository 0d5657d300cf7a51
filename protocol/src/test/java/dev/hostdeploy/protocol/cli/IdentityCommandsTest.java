package dev.hostdeploy.protocol.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustList;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class IdentityCommandsTest {
    @Command(name = "hostdeploy-test", mixinStandardHelpOptions = true,
            subcommands = {InitCommand.class, FingerprintCommand.class, TrustCommand.class,
                    UntrustCommand.class, TrustedCommand.class})
    static final class Root {
    }

    record Run(int exit, String out, String err) {
    }

    @TempDir
    Path dir;

    static Run run(String... args) {
        return run(new Root(), args);
    }

    static Run run(Object root, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Cli.execute(root, args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8).trim());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void initTwiceKeepsTheSameKeyAndPrintsTheSameFingerprint() throws Exception {
        Run first = run("init", "--dir", dir.toString());
        byte[] key = Files.readAllBytes(dir.resolve("key.pem"));
        Run second = run("init", "--dir", dir.toString());
        assertThat(first.exit()).isZero();
        assertThat(second.exit()).isZero();
        assertThat(first.out()).matches("sha256:[0-9a-f]{64}");
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(second.err()).contains("exists");
        assertThat(Files.readAllBytes(dir.resolve("key.pem"))).isEqualTo(key);
        assertThat(run("fingerprint", "--dir", dir.toString()).out()).isEqualTo(first.out());
    }

    @Test
    void keyFileIsReadableByOwnerOnly() throws Exception {
        run("init", "--dir", dir.toString());
        assertThat(Files.getPosixFilePermissions(dir.resolve("key.pem")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }

    @Test
    void fingerprintMatchesOpensslOverTheSubjectPublicKeyInfo() throws Exception {
        String fingerprint = run("init", "--dir", dir.toString()).out();
        Process p = new ProcessBuilder("sh", "-c",
                "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum",
                "sh", dir.resolve("cert.pem").toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String hex = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split(" ")[0];
        assertThat(fingerprint).isEqualTo("sha256:" + hex);
    }

    @Test
    void trustedPeersCanBeAddedListedAndRemoved() throws Exception {
        run("init", "--dir", dir.toString());
        String fp = Identity.generate("manager").fingerprint();
        assertThat(run("trust", "--dir", dir.toString(), "--name", "manager", "--fingerprint", fp.toUpperCase().replace("SHA256", "sha256")).exit()).isZero();
        assertThat(run("trusted", "--dir", dir.toString()).out()).isEqualTo("manager\t" + fp);
        assertThat(TrustList.load(dir).trusts(fp)).isTrue();
        assertThat(run("untrust", "--dir", dir.toString(), "--name", "manager").exit()).isZero();
        assertThat(run("trusted", "--dir", dir.toString()).out()).isEmpty();
        Run again = run("untrust", "--dir", dir.toString(), "--name", "manager");
        assertThat(again.exit()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(again.err()).contains("no trusted peer named 'manager'");
    }

    @Test
    void trustInADirectoryWithoutAnIdentitySaysSoAndWritesNothing() {
        Path typo = dir.resolve("gaurdian");
        Run r = run("trust", "--dir", typo.toString(), "--name", "manager", "--fingerprint",
                Identity.generate("manager").fingerprint());
        assertThat(r.exit()).isEqualTo(ExitCodes.NOT_FOUND).isEqualTo(65);
        assertThat(r.err()).contains("no identity in " + typo).contains("--create");
        assertThat(r.out()).isEmpty();
        assertThat(typo).doesNotExist();
    }

    @Test
    void trustWithCreateMakesTheIdentityAndTrustsThePeer() throws Exception {
        String fp = Identity.generate("manager").fingerprint();
        Run r = run("trust", "--dir", dir.toString(), "--name", "manager", "--fingerprint", fp, "--create");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("trusted manager " + fp);
        assertThat(Identity.exists(dir)).isTrue();
        assertThat(r.err()).contains("created identity in " + dir + ": " + Identity.load(dir).fingerprint());
        assertThat(TrustList.load(dir).trusts(fp)).isTrue();
        byte[] key = Files.readAllBytes(dir.resolve("key.pem"));
        assertThat(run("trust", "--dir", dir.toString(), "--name", "other", "--fingerprint",
                Identity.generate("other").fingerprint(), "--create").err()).isEmpty();
        assertThat(Files.readAllBytes(dir.resolve("key.pem"))).isEqualTo(key);
    }

    @Test
    void badFingerprintIsRefusedWithAClearMessageAndNothingIsWritten() {
        for (String bad : new String[] {"sha256:1234", "md5:" + "a".repeat(64), "sha256:" + "g".repeat(64), "x; rm -rf /"}) {
            Run r = run("trust", "--dir", dir.toString(), "--name", "manager", "--fingerprint", bad);
            assertThat(r.exit()).as(bad).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).contains("expected sha256: followed by 64 hex digits");
        }
        assertThat(Files.exists(dir.resolve(TrustList.FILE))).isFalse();
    }

    @Test
    void badPeerNameIsRefused() {
        Run r = run("trust", "--dir", dir.toString(), "--name", "../../etc", "--fingerprint",
                Identity.generate("x").fingerprint());
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("bad peer name");
    }

    @Test
    void listenAddressParsesHostPortAndBracketedIpv6() {
        assertThat(HostPortConverter.parse("127.0.0.1:7443").getPort()).isEqualTo(7443);
        assertThat(HostPortConverter.parse("[::1]:7444").getAddress().isLoopbackAddress()).isTrue();
        for (String bad : new String[] {"7443", "host:", "::1:80", "host:99999", "host:http", ""}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostPortConverter.parse(bad))
                    .as(bad).isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("'" + bad + "'");
        }
    }

    @Command(name = "serve")
    static final class Serve implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Option(names = "--listen", converter = HostPortConverter.class, defaultValue = "127.0.0.1:8080")
        java.net.InetSocketAddress listen;

        @Override
        public Integer call() {
            System.out.println(listen.getPort());
            return 0;
        }
    }

    @Test
    void badListenAddressIsAUsageErrorNamingTheOption() {
        Run r = run(new Serve(), "--listen", "0.0.0.0");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--listen").contains("'0.0.0.0': expected HOST:PORT");
        assertThat(run(new Serve()).out()).isEqualTo("8080");
        assertThat(run(new Serve(), "--listen", "[::]:7443").out()).isEqualTo("7443");
    }
}
