package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.TypeConversionException;

/** The console's serve options are checked before anything is made. */
class ConsoleOptionsTest {
    @TempDir
    Path root;

    @Test
    void durationsAreWrittenWithTheirUnit() {
        var convert = new ServeCommand.DurationConverter();
        assertThat(convert.convert("60s")).isEqualTo(Duration.ofSeconds(60));
        assertThat(convert.convert("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThat(convert.convert("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(convert.convert("7d")).isEqualTo(Duration.ofDays(7));
        assertThatThrownBy(() -> convert.convert("1w")).isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("60s, 15m, 2h or 7d");
        assertThatThrownBy(() -> convert.convert("60")).isInstanceOf(TypeConversionException.class);
    }

    @Test
    void githubSignInNeedsItsSecretAndAnOrgOrAdminAndAValidPublicUrl() throws Exception {
        ManagerConfig base = TestManager.config(root);
        assertThatThrownBy(() -> Manager.check(base.github("id", root.resolve("missing"))))
                .hasMessageContaining("--github-client-secret-file");
        Path secret = Files.writeString(root.resolve("secret"), "s");
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).github("id", secret)))
                .hasMessageContaining("--github-org");
        Manager.check(TestManager.config(root).github("id", secret).githubOrg("club"));
        Manager.check(TestManager.config(root).github("id", secret).adminGithubLogins(List.of("octo")));
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).githubOrg("not an org!")))
                .hasMessageContaining("--github-org");
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).github("id", secret).githubOrg("club")
                .githubOrgCheck(Duration.ofSeconds(30)))).hasMessageContaining("--github-org-check must be at least 1m");
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).publicUrl(URI.create("ftp://example.org"))))
                .hasMessageContaining("--public-url");
        assertThat(Files.exists(root.resolve("data"))).as("nothing made").isFalse();
    }

    @Test
    void ingressOptionsAreCheckedBeforeAnythingIsMade() {
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).publishOnHost("lumi")))
                .hasMessageContaining("--publish-on-host needs an https --public-url");
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).publishOnHost("lumi")
                .publicUrl(URI.create("http://hd.example.org")))).hasMessageContaining("https");
        Manager.check(TestManager.config(root).publishOnHost("lumi").publicUrl(URI.create("https://hd.example.org")));
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).memberDomainSuffix("*.example.org")))
                .hasMessageContaining("--member-domain-suffix");
        assertThatThrownBy(() -> Manager.check(TestManager.config(root).memberHttpPortRange(80, 90)))
                .hasMessageContaining("--member-http-port-range");
        assertThat(Files.exists(root.resolve("data"))).as("nothing made").isFalse();
    }
}
