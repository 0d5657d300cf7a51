package dev.hostdeploy.guardian;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps docs/guardian.md true to what the Guardian serves. */
class DocsTest {
    @TempDir
    Path state;

    @Test
    void everyGuardianCommandIsDocumented() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "guardian.md"));
        // Built, not started: registering the handlers touches neither nft nor the network.
        try (GuardianAgent g = GuardianAgent.builder(Identity.generate("docs"), TrustPolicy.exactly(List.of()), state)
                .build()) {
            List<String> all = new java.util.ArrayList<>(FirewallSchema.COMMANDS);
            all.addAll(dev.hostdeploy.schema.ingress.IngressSchema.COMMANDS);
            assertThat(g.registry().commands()).containsExactlyInAnyOrderElementsOf(all);
            for (String command : g.registry().commands()) {
                assertThat(doc).as("docs/guardian.md documents " + command).contains("`" + command + "`");
            }
        }
        assertThat(doc).contains("`" + FirewallSchema.REPAIRED + "`");
    }
}
