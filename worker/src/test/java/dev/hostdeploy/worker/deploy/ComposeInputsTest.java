package dev.hostdeploy.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every file compose reads to normalize a compose file changes the hash; what cannot be named gives none. */
class ComposeInputsTest {
    private static final List<String> COMMAND = List.of("docker-compose", "-p", "web", "config");
    private static final Map<String, String> ENVIRONMENT = Map.of("PATH", "/usr/bin", "LC_ALL", "C");

    @TempDir
    Path dir;
    Path compose;
    Path envFile;

    @BeforeEach
    void files() throws Exception {
        compose = dir.resolve("docker-compose.yml");
        envFile = dir.resolve("web.env");
        Files.writeString(compose, """
                services:
                  web:
                    extends: {file: base.yml, service: base}
                    env_file: [app.env]
                """);
        Files.writeString(dir.resolve("base.yml"), """
                services:
                  base:
                    image: busybox
                    env_file: base.env
                """);
        Files.writeString(dir.resolve("app.env"), "A=1\n");
        Files.writeString(dir.resolve("base.env"), "B=1\n");
        Files.writeString(envFile, "SECRET='x'\n");
    }

    private Optional<String> hash() {
        return ComposeInputs.hash(COMMAND, ENVIRONMENT, envFile, compose);
    }

    @Test
    void theSameFilesHashTheSame() {
        assertThat(hash()).isPresent().isEqualTo(hash());
    }

    @Test
    void aChangeToAnyFileComposeReadsChangesTheHash() throws Exception {
        for (String f : List.of("docker-compose.yml", "base.yml", "app.env", "base.env", "web.env", ".env")) {
            Optional<String> before = hash();
            Files.writeString(dir.resolve(f), "\n# changed\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);

            assertThat(hash()).as(f).isPresent().isNotEqualTo(before);
        }
    }

    @Test
    void theCommandAndTheEnvironmentAreInputs() {
        assertThat(ComposeInputs.hash(List.of("docker", "compose", "-p", "web", "config"), ENVIRONMENT, envFile, compose))
                .isPresent().isNotEqualTo(hash());
        assertThat(ComposeInputs.hash(COMMAND, Map.of("PATH", "/bin", "LC_ALL", "C"), envFile, compose))
                .isPresent().isNotEqualTo(hash());
    }

    @Test
    void anExtendedFileRetargetedThroughASymlinkChangesTheHash() throws Exception {
        Files.writeString(dir.resolve("other.yml"), Files.readString(dir.resolve("base.yml")));
        Files.move(dir.resolve("base.yml"), dir.resolve("real.yml"));
        Files.createSymbolicLink(dir.resolve("base.yml"), dir.resolve("real.yml"));
        Optional<String> before = hash();
        Files.delete(dir.resolve("base.yml"));
        Files.createSymbolicLink(dir.resolve("base.yml"), dir.resolve("other.yml"));

        assertThat(hash()).isPresent().isNotEqualTo(before);
    }

    @Test
    void pathsComposeWouldInterpolateOrFilesItWouldIncludeGiveNoHash() throws Exception {
        Files.writeString(compose, "services:\n  web:\n    image: busybox\n    env_file: ${DIR}/app.env\n");
        assertThat(hash()).isEmpty();
        Files.writeString(compose, "services:\n  web:\n    extends: {file: ~/base.yml, service: base}\n");
        assertThat(hash()).isEmpty();
        Files.writeString(compose, "include: [other.yml]\nservices:\n  web:\n    image: busybox\n");
        assertThat(hash()).isEmpty();
    }

    @Test
    void serviceNamesOrPathsThatAreNoStringsAndUnknownBaseServicesGiveNoHash() throws Exception {
        Files.writeString(compose, "services:\n  1:\n    extends: {file: base.yml, service: base}\n");
        assertThat(hash()).isEmpty();
        Files.writeString(compose, "services:\n  web:\n    extends: {file: base.yml, service: 1}\n");
        assertThat(hash()).isEmpty();
        Files.writeString(compose, "services:\n  web:\n    extends: {file: base.yml, service: other}\n");
        assertThat(hash()).isEmpty();
        Files.writeString(compose, "services:\n  web:\n    image: busybox\n    env_file: [{path: [a.env]}]\n");
        assertThat(hash()).isEmpty();
    }

    @Test
    void yamlSnakeYamlRefusesGivesNoHash() throws Exception {
        Files.writeString(compose, "services:\n  web:\n    image: busybox\n    image: other\n");
        assertThat(hash()).isEmpty();
        Files.writeString(dir.resolve("base.yml"), "services: [");
        Files.writeString(compose, "services:\n  web:\n    extends: {file: base.yml, service: base}\n");
        assertThat(hash()).isEmpty();
    }
}
