package dev.hostdeploy.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class DeployOptionsTest {
    @Command(name = "run")
    static class Run {
        @Mixin
        DeployOptions deploy;
    }

    @Test
    void runCommandLineFillsTheOptions() {
        Run run = new Run();
        new CommandLine(run).parseArgs("--deploy-root", "/srv/deploy", "--git-base-url", "git://127.0.0.1:9418",
                "--allowed-org", "acme", "--allowed-org", "friends", "--health-timeout", "90s", "--max-parallel", "3",
                "--lock-wait", "PT30S");
        DeployOptions o = run.deploy;
        assertThat(o.deployRoot()).isEqualTo(Path.of("/srv/deploy"));
        assertThat(o.gitBaseUrl()).isEqualTo("git://127.0.0.1:9418");
        assertThat(o.allowedOrgs()).containsExactly("acme", "friends");
        assertThat(o.healthTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(o.maxParallel()).isEqualTo(3);
        assertThat(o.lockWait()).isEqualTo(Duration.ofSeconds(30));
        o.validate();
    }

    @Test
    void defaultsMatchTheIssue() {
        Run run = new Run();
        new CommandLine(run).parseArgs();
        assertThat(run.deploy.gitBaseUrl()).isEqualTo("https://github.com");
        assertThat(run.deploy.allowedOrgs()).isEmpty();
        assertThat(run.deploy.dockerHost()).isEqualTo("unix:///var/run/docker.sock");
    }

    @Test
    void inconsistentOptionsAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> new DeployOptions().maxParallel(0).validate()).hasMessageContaining("--max-parallel");
        assertThatThrownBy(() -> new DeployOptions().allowedOrgs(List.of("bad org")).validate())
                .hasMessageContaining("--allowed-org");
        assertThatThrownBy(() -> new DeployOptions().gitBaseUrl("github.com").validate())
                .hasMessageContaining("--git-base-url");
        assertThatThrownBy(() -> new CommandLine(new Run()).parseArgs("--health-timeout", "soon"))
                .hasMessageContaining("not a duration");
    }
}
