package dev.hostdeploy.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.PolicyRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compose policy on real compose files and the real {@code docker-compose config} output, in the
 * order the Deployer runs them (raw file first, then the normalized config); no container is started.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ComposePolicyTest {
    @TempDir
    Path dir;

    @Test
    void privilegedIsRefusedNamingTheServiceTheKeyAndTheException() throws Exception {
        assertThat(check("""
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    privileged: true
                """)).containsExactly(
                "service 'web': privileged is not allowed (ask an admin for an exception: allow.privileged)");
    }

    @Test
    void hostNamespacesAndAnotherContainersNamespacesAreRefused() throws Exception {
        assertThat(check("""
                version: "2.4"
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    network_mode: host
                    pid: host
                    ipc: host
                    userns_mode: host
                  sidecar:
                    image: hostdeploy-test/busybox:1
                    network_mode: "container:some-other-container"
                  helper:
                    image: hostdeploy-test/busybox:1
                    network_mode: "service:web"
                """)).containsExactlyInAnyOrder(
                "service 'web': network_mode: host is not allowed (ask an admin for an exception: allow.hostNetwork)",
                "service 'web': pid: host is not allowed (ask an admin for an exception: allow.hostPid)",
                "service 'web': ipc: host is not allowed (ask an admin for an exception: allow.hostIpc)",
                "service 'web': userns_mode: host is not allowed (ask an admin for an exception: allow.hostUserns)",
                "service 'sidecar': network_mode: container:some-other-container is not allowed"
                        + " (ask an admin for an exception: allow.containerNamespaces)");
    }

    @Test
    void bindMountsOfTheRootAndOfTheDockerSocketAreRefused() throws Exception {
        assertThat(check("""
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    volumes:
                      - /:/host
                      - /var/run/docker.sock:/var/run/docker.sock
                      - type: bind
                        source: /etc
                        target: /hostetc
                """)).containsExactlyInAnyOrder(
                "service 'web': volumes '/' is not allowed (ask an admin for an exception: allow.dockerSocket)",
                "service 'web': volumes '/var/run/docker.sock' is not allowed (ask an admin for an exception: allow.dockerSocket)",
                "service 'web': volumes '/etc' is not allowed (ask an admin for an exception: allow.bindMounts)");
    }

    @Test
    void aBindMountThroughASymlinkLeavingTheCheckoutIsOutside() throws Exception {
        Files.createSymbolicLink(checkout().resolve("escape"), Path.of("/etc"));

        assertThat(check("""
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    volumes:
                      - ./escape:/data
                """)).singleElement().asString().contains("allow.bindMounts").contains("/escape'");
    }

    @Test
    void aNamedVolumeWhoseDriverOptionsBindAHostPathIsRefused() throws Exception {
        assertThat(check("""
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    volumes:
                      - hostetc:/data
                      - cache:/cache
                volumes:
                  hostetc:
                    driver_opts: {type: none, o: bind, device: /etc}
                  cache:
                    driver_opts: {type: tmpfs, device: tmpfs}
                """)).containsExactly("service 'web': volumes (named volume 'hostetc' binds '/etc') is not allowed"
                + " (ask an admin for an exception: allow.bindMounts)");
    }

    @Test
    void anEnvFileOutsideTheCheckoutIsRefusedBeforeComposeReadsIt() throws Exception {
        Files.writeString(dir.resolve("host-secrets.env"), "ROOT_PASSWORD=x\n");

        assertThat(check("""
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    env_file: ["app.env", "../host-secrets.env"]
                """, Map.of("app.env", "A=1\n"))).containsExactly("service 'web': env_file '../host-secrets.env'"
                + " is not allowed (ask an admin for an exception: allow.envFile)");
    }

    @Test
    void anEnvFileInAnExtendedServiceIsFollowed() throws Exception {
        assertThat(check("""
                version: "2.4"
                services:
                  web:
                    extends:
                      file: base.yml
                      service: base
                """, Map.of("base.yml", """
                version: "2.4"
                services:
                  base:
                    image: hostdeploy-test/busybox:1
                    env_file: /etc/hostname
                """))).containsExactly("service 'web': env_file '/etc/hostname' is not allowed"
                + " (ask an admin for an exception: allow.envFile)");
    }

    @Test
    void aBuildContextOutsideTheCheckoutIsRefused() throws Exception {
        assertThat(check("""
                services:
                  web:
                    build: ..
                """)).singleElement().asString().startsWith("service 'web': build.context '")
                .endsWith("is not allowed (ask an admin for an exception: allow.buildContext)");
    }

    @Test
    void addedCapabilitiesBeyondDockersDefaultsDevicesAndUnconfinedSecurityOptionsAreRefused() throws Exception {
        assertThat(check("""
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    cap_add: [ALL, NET_BIND_SERVICE, CAP_CHOWN]
                    devices: ["/dev/null:/dev/x"]
                    security_opt: ["apparmor:unconfined", "no-new-privileges:true"]
                """)).containsExactlyInAnyOrder(
                "service 'web': cap_add 'ALL' is not allowed (ask an admin for an exception: allow.capAdd)",
                "service 'web': devices is not allowed (ask an admin for an exception: allow.devices)",
                "service 'web': security_opt 'apparmor:unconfined' is not allowed (ask an admin for an exception: allow.securityOpt)");
    }

    @Test
    void secretFilesOutsideTheCheckoutAreRefused() throws Exception {
        assertThat(check("""
                version: "3.8"
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    secrets: [inside, shadow]
                secrets:
                  inside:
                    file: ./secret.txt
                  shadow:
                    file: /etc/shadow
                """, Map.of("secret.txt", "s\n"))).containsExactly("service 'web': secrets 'shadow' (file '/etc/shadow')"
                + " is not allowed (ask an admin for an exception: allow.secretFiles)");
    }

    @Test
    void anExceptionWaivesTheRuleOnlyForTheServicesItNames() throws Exception {
        String compose = """
                services:
                  web:
                    image: hostdeploy-test/busybox:1
                    privileged: true
                  worker:
                    image: hostdeploy-test/busybox:1
                    privileged: true
                """;

        assertThat(check(compose, Map.of(), Map.of(PolicyRule.PRIVILEGED, Set.of("web")))).containsExactly(
                "service 'worker': privileged is not allowed (ask an admin for an exception: allow.privileged)");
    }

    @Test
    void aLegitimateComposeFilePasses() throws Exception {
        assertThat(check("""
                version: "2.4"
                services:
                  web:
                    build: .
                    ports: ["127.0.0.1::8080"]
                    cap_drop: [ALL]
                    cap_add: [NET_BIND_SERVICE]
                    security_opt: ["no-new-privileges:true"]
                    env_file: app.env
                    volumes:
                      - ./site:/site:ro
                      - data:/data
                      - /cache
                      - type: bind
                        source: ./site
                        target: /site2
                  db:
                    image: hostdeploy-test/busybox:1
                    network_mode: "service:web"
                    volumes_from: [web]
                volumes:
                  data:
                """, Map.of("app.env", "A=1\n", "Dockerfile", "FROM hostdeploy-test/busybox:1\n", "site/index.html", "x\n")))
                .isEmpty();
    }

    @Test
    void aRefusalIsInvalidDataOnTheComposePath() {
        var v = new ComposePolicy.Violation(PolicyRule.DEVICES, "web", "devices");

        assertThatThrownBy(() -> ComposePolicy.enforce(List.of(v)))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
                    assertThat(e.field()).isEqualTo("composePath");
                    assertThat(e.getMessage()).contains(v.message());
                });
    }

    private Path checkout() throws Exception {
        return Files.createDirectories(dir.resolve("checkout"));
    }

    private List<String> check(String compose) throws Exception {
        return check(compose, Map.of());
    }

    private List<String> check(String compose, Map<String, String> files) throws Exception {
        return check(compose, files, Map.of());
    }

    /** As the Deployer does: the raw file, then (if that passed) compose's normalized config. */
    private List<String> check(String compose, Map<String, String> files, Map<PolicyRule, Set<String>> allow)
            throws Exception {
        Path checkout = checkout();
        Path file = checkout.resolve("docker-compose.yml");
        Files.writeString(file, compose);
        for (var f : files.entrySet()) {
            Files.createDirectories(checkout.resolve(f.getKey()).getParent());
            Files.writeString(checkout.resolve(f.getKey()), f.getValue());
        }
        ComposePolicy policy = new ComposePolicy(checkout, ComposePolicy.socketsOf("unix:///var/run/docker.sock"), allow);
        List<ComposePolicy.Violation> found = new ArrayList<>(policy.checkRaw(file));
        if (found.isEmpty()) {
            StringBuilder config = new StringBuilder();
            List<String> errors = new ArrayList<>();
            Proc.Result r = new Proc(c -> { }).run(List.of("docker-compose", "-p", "policytest", "-f", file.toString(),
                    "config"), checkout, Map.of(), Duration.ofSeconds(60), Redactor.NONE, errors::add, config);
            assertThat(r.ok()).as("compose config: %s", errors).isTrue();
            found.addAll(policy.checkConfig(config.toString()));
        }
        return found.stream().map(ComposePolicy.Violation::message).toList();
    }
}
