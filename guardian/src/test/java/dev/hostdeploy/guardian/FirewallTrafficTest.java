package dev.hostdeploy.guardian;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real traffic: a client namespace talks to a host namespace (where the Guardian's nft runs) over a
 * veth pair; a third namespace stands in for a container behind a forward.
 */
@Timeout(120)
class FirewallTrafficTest {
    private static final String HOST_IP = "10.231.1.1";
    private static final String ADMIN_TABLE = """
            table inet admin {
            	chain input {
            		type filter hook input priority filter + 10; policy accept;
            		tcp dport 9999 accept
            	}
            }
            """;

    @TempDir
    Path state;
    NetNs ns;
    String host;
    String client;
    GuardianFixture g;

    @BeforeEach
    void namespaces() throws Exception {
        ns = new NetNs();
        host = ns.create("h");
        client = ns.create("c");
        ns.link(host, client, 1, null);
        ns.httpd(host, HOST_IP, 8080, "host-8080");
        ns.httpd(host, HOST_IP, 8081, "host-8081");
    }

    @AfterEach
    void cleanUp() {
        if (g != null) {
            g.close();
        }
        ns.close();
    }

    private String fetch(int port) {
        return ns.fetch(client, HOST_IP, port, 2);
    }

    @Test
    void openPortIsReachableAndClosedPortIsDroppedWithDefaultDrop() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b.defaultDrop(true));
        assertThat(fetch(8080)).as("nothing open yet").isNull();

        JsonNode opened = g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":8080,\"owner\":\"deployment/web\",\"comment\":\"site\"}");
        assertThat(opened.path("changed").asBoolean()).isTrue();
        assertThat(fetch(8080)).isEqualTo("host-8080");
        assertThat(fetch(8081)).as("only the opened port").isNull();

        assertThat(g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":8080,\"owner\":\"deployment/web\",\"comment\":\"site\"}")
                .path("changed").asBoolean()).as("idempotent").isFalse();

        assertThat(g.call("firewall.close", "{\"protocol\":\"tcp\",\"port\":8080,\"owner\":\"deployment/web\"}").path("closed").asInt())
                .isEqualTo(1);
        assertThat(fetch(8080)).isNull();
    }

    @Test
    void rangeAndSourceLimitedOpeningsAdmitOnlyMatchingClients() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b.defaultDrop(true));
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"8081-8090\",\"source\":\"10.231.99.0/24\",\"owner\":\"deployment/a\"}");
        assertThat(fetch(8081)).as("client is outside 10.231.99.0/24").isNull();

        g.call("firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"8081-8090\",\"source\":\"10.231.1.2\",\"owner\":\"deployment/b\"}");
        assertThat(fetch(8081)).isEqualTo("host-8081");
        assertThat(fetch(8080)).isNull();

        assertThat(g.call("firewall.close", "{\"owner\":\"deployment/b\"}").path("closed").asInt()).isEqualTo(1);
        assertThat(fetch(8081)).isNull();
    }

    @Test
    void sshAndTheGuardiansPortStayOpenAndCannotBeClosed() throws Exception {
        g = new GuardianFixture(ns.nft(host), state, b -> b.defaultDrop(true).sshPort(8080));
        assertThat(fetch(8080)).as("the configured SSH port is reachable with default drop").isEqualTo("host-8080");

        AgentCallException e = g.error("firewall.close", "{\"protocol\":\"tcp\",\"port\":8080}");
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        assertThat(e.getMessage()).contains("protected");
        e = g.error("firewall.close", "{\"protocol\":\"tcp\",\"port\":" + g.agent.port() + "}");
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
        e = g.error("forward.add", "{\"protocol\":\"tcp\",\"hostPort\":8080,\"targetAddress\":\"10.231.1.2\",\"targetPort\":80,\"owner\":\"deployment/x\"}");
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);

        g.call("firewall.apply", "{\"rules\":[],\"forwards\":[]}");
        assertThat(fetch(8080)).isEqualTo("host-8080");
    }

    @Test
    void forwardReachesAListenerBehindTheHost() throws Exception {
        String target = ns.create("t");
        ns.link(host, target, 2, null);
        ns.exec(target, "ip", "route", "add", "default", "via", "10.231.2.1");
        ns.exec(host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        ns.httpd(target, "10.231.2.2", 80, "container");
        g = new GuardianFixture(ns.nft(host), state, b -> b);

        assertThat(fetch(9000)).isNull();
        g.call("forward.add", "{\"protocol\":\"tcp\",\"hostPort\":9000,\"targetAddress\":\"10.231.2.2\",\"targetPort\":80,\"owner\":\"deployment/app\"}");
        assertThat(fetch(9000)).isEqualTo("container");

        JsonNode list = g.call("firewall.list", "{}");
        assertThat(list.path("forwards").get(0).path("owner").asText()).isEqualTo("deployment/app");
        AgentCallException e = g.error("forward.add",
                "{\"protocol\":\"tcp\",\"hostPort\":9000,\"targetAddress\":\"10.231.2.9\",\"targetPort\":80,\"owner\":\"deployment/other\"}");
        assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);

        assertThat(g.call("forward.remove", "{\"protocol\":\"tcp\",\"hostPort\":9000}").path("removed").asInt()).isEqualTo(1);
        assertThat(fetch(9000)).isNull();
    }

    @Test
    void guardDockerLetsPublishedPortsThroughOnlyWhenOpen() throws Exception {
        // A stand-in for Docker: a bridge named docker0 and a DNAT of host port 8888 in Docker's own table.
        String container = ns.create("d");
        ns.link(host, container, 3, "docker0");
        ns.exec(container, "ip", "route", "add", "default", "via", "10.231.3.1");
        ns.exec(host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        ns.httpd(container, "10.231.3.2", 80, "published");
        ns.exec(host, "nft", "add table ip dockersim; add chain ip dockersim pre { type nat hook prerouting priority dstnat; }; "
                + "add rule ip dockersim pre tcp dport 8888 dnat to 10.231.3.2:80");
        assertThat(fetch(8888)).as("Docker publishes past the input chain").isEqualTo("published");

        g = new GuardianFixture(ns.nft(host), state, b -> b.guardDocker(true));
        assertThat(fetch(8888)).as("guarded: port not open").isNull();
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":8888,\"owner\":\"deployment/svc\"}");
        assertThat(fetch(8888)).isEqualTo("published");
        g.call("firewall.close", "{\"owner\":\"deployment/svc\"}");
        assertThat(fetch(8888)).isNull();
    }

    @Test
    void theAdminsOwnTableInTheSameNamespaceIsUntouched() throws Exception {
        ns.execResult(host, "nft", "-f", "-"); // no-op warm up
        NetNs.Result r = NetNs.runResult("sh", "-c", "printf '%s' \"$1\" | ip netns exec \"$2\" nft -f -", "sh", ADMIN_TABLE, host);
        assertThat(r.exit()).as(r.out()).isZero();
        String before = ns.exec(host, "nft", "list", "table", "inet", "admin");

        g = new GuardianFixture(ns.nft(host), state, b -> b.defaultDrop(true).guardDocker(true));
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":8080}");
        g.call("firewall.apply", "{\"rules\":[{\"protocol\":\"udp\",\"port\":53}],\"forwards\":[]}");
        g.call("firewall.close", "{\"protocol\":\"udp\",\"port\":53}");
        ns.exec(host, "nft", "flush", "table", "inet", "hostdeploy");
        assertThat(g.agent.checkNow()).isNotEmpty();

        assertThat(ns.exec(host, "nft", "list", "table", "inet", "admin")).isEqualTo(before);
        assertThat(ns.exec(host, "nft", "list", "tables")).contains("table inet admin", "table inet hostdeploy");
    }
}
