package dev.hostdeploy.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DeploymentOptionsTest {
    @TempDir
    Path root;

    @Test
    void allowedOrgIsRepeatableAndTakesCommaSeparatedLists() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--allowed-org", "acme", "--allowed-org", "beta,gamma",
                "--webhook-secret-file", "/run/secret", "--deploy-parallel", "2");
        assertThat(serve.allowedOrgs).containsExactly("acme", "beta", "gamma");
        assertThat(serve.webhookSecretFile).isEqualTo(Path.of("/run/secret"));
        assertThat(serve.deployParallel).isEqualTo(2);
    }

    @Test
    void anInvalidOrgOrAMissingSecretFileStopsTheStartBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> Manager.start(TestManager.config(root).allowedOrgs(List.of("-bad"))))
                .hasMessageContaining("--allowed-org -bad");
        assertThatThrownBy(() -> Manager.start(TestManager.config(root).webhookSecretFile(root.resolve("nope"))))
                .hasMessageContaining("nope");
        assertThat(root.resolve("data")).doesNotExist();
    }
}
