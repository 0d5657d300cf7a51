package dev.hostdeploy.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentClient;
import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustPolicy;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** host.summary over the real protocol, registered as the Worker's run command registers it. */
class HostSummaryCommandTest {
    @TempDir
    Path dir;

    @Test
    void aWorkerWithoutLxdStillSummarisesItsFiguresAndDeploymentsAndNamesTheMissingPart() throws Exception {
        Identity worker = Identity.generate("worker");
        Identity manager = Identity.generate("manager");
        HandlerRegistry registry = new HandlerRegistry();
        // A socket nobody serves: this Worker's LXD is down (or not installed).
        try (DeployModule deploy = DeployModule.create(new DeployOptions().deployRoot(dir.resolve("deploy")));
             LxcModule lxc = LxcModule.create(new LxcOptions(List.of(), dir.resolve("backups"), 3,
                     dir.resolve("no-lxd.socket")))) {
            deploy.register(registry);
            lxc.register(registry);
            HostSummaryCommand.register(registry, deploy, lxc);
            AgentServer server = AgentServer.builder(worker, TrustPolicy.exactly(List.of(manager.fingerprint())), registry)
                    .listen(new InetSocketAddress("127.0.0.1", 0)).kind("worker").version("test").build();
            server.start();
            try (AgentClient client = AgentClient.builder(URI.create("wss://127.0.0.1:" + server.port() + AgentServer.PATH),
                    manager, TrustPolicy.exactly(List.of(worker.fingerprint()))).build()) {
                client.start();
                assertThat(client.awaitConnected(Duration.ofSeconds(20))).isTrue();
                assertThat(client.agentInfo().commands()).contains("host.summary");

                JsonNode summary = client.call("host.summary", null).get(30, TimeUnit.SECONDS);

                assertThat(summary.at("/stats/cpus").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
                assertThat(summary.at("/stats/diskPath").asText()).isEqualTo(dir.resolve("deploy").toString());
                assertThat(summary.get("deployments").isArray()).isTrue();
                assertThat(summary.get("deployments")).isEmpty();
                assertThat(summary.get("containers").isNull()).isTrue();
                assertThat(summary.at("/errors/lxc.list/code").asText()).isEqualTo("unavailable");
                assertThat(summary.get("errors").size()).isEqualTo(1);
            } finally {
                server.close();
            }
        }
    }
}
