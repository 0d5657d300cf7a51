package dev.hostdeploy.guardian;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.guardian.nft.ElementPlanner;
import dev.hostdeploy.guardian.state.StateStore;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.schema.firewall.Cidr;
import dev.hostdeploy.schema.firewall.IpAddress;
import dev.hostdeploy.schema.firewall.PortRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad input is answered invalid_data naming the field, and nothing reaches nft or the state file. */
@Timeout(120)
class ValidationTest {
    static NetNs ns;
    static String host;
    static Path state;
    static GuardianFixture g;

    @BeforeAll
    static void start() throws Exception {
        ns = new NetNs();
        host = ns.create("h");
        state = Files.createTempDirectory("hdg-state");
        g = new GuardianFixture(ns.nft(host), state, b -> b);
    }

    @AfterAll
    static void stop() {
        g.close();
        ns.close();
    }

    private void rejected(String command, String json, String field) throws Exception {
        AgentCallException e = g.error(command, json);
        assertThat(e.code()).as(json).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(e.error().field()).as(json + " -> " + e.getMessage()).isEqualTo(field);
    }

    @Test
    void injectionAttemptsAreRejectedAndNothingIsApplied() throws Exception {
        String rulesetBefore = ns.exec(host, "nft", "list", "ruleset");
        String fileBefore = stateFile();
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":\"22; flush ruleset\"}", "port");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"22; flush ruleset\"}", "ports");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"source\":\"0.0.0.0/0 accept\"}", "source");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"comment\":\"a\\\" ; flush ruleset\"}", "comment");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"comment\":\"line\\nbreak\"}", "comment");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"owner\":\"Web App\"}", "owner");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"owner\":\"web\"}", "owner"); // kind/name since issue 9
        rejected("firewall.open", "{\"protocol\":\"tcp; flush ruleset\",\"port\":80}", "protocol");
        rejected("forward.add", "{\"protocol\":\"tcp\",\"hostPort\":80,\"targetAddress\":\"10.0.0.1; drop\",\"targetPort\":80,\"owner\":\"deployment/a\"}", "targetAddress");
        rejected("forward.add", "{\"protocol\":\"tcp\",\"hostPort\":80,\"targetAddress\":\"localhost\",\"targetPort\":80,\"owner\":\"deployment/a\"}", "targetAddress");
        rejected("firewall.apply", "{\"rules\":[{\"protocol\":\"tcp\",\"port\":80},{\"protocol\":\"tcp\",\"port\":\"1 }\"}]}", "rules[1].port");

        assertThat(ns.exec(host, "nft", "list", "ruleset")).isEqualTo(rulesetBefore);
        assertThat(stateFile()).isEqualTo(fileBefore);
    }

    private static String stateFile() throws java.io.IOException {
        Path f = state.resolve(StateStore.FILE);
        return Files.exists(f) ? Files.readString(f) : "";
    }

    @Test
    void outOfRangeAndMalformedValuesNameTheirField() throws Exception {
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":0}", "port");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":65536}", "port");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80.5}", "port");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":\"80\"}", "port");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"9000-8000\"}", "ports");
        rejected("firewall.open", "{\"protocol\":\"icmp\",\"port\":1}", "protocol");
        rejected("firewall.open", "{\"protocol\":\"tcp\"}", "port");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"source\":\"10.0.0.1/8\"}", "source");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"source\":\"300.1.1.1\"}", "source");
        rejected("firewall.open", "{\"protocol\":\"tcp\",\"port\":80,\"source\":\"fe80::1%eth0\"}", "source");
        rejected("forward.add", "{\"protocol\":\"udp\",\"hostPort\":70000,\"targetAddress\":\"10.0.0.1\",\"targetPort\":1,\"owner\":\"deployment/a\"}", "hostPort");
        rejected("forward.add", "{\"protocol\":\"udp\",\"hostPort\":7000,\"targetAddress\":\"10.0.0.1\",\"targetPort\":1}", "owner");
        rejected("firewall.apply", "{\"forwards\":[{\"protocol\":\"tcp\",\"hostPort\":81,\"targetAddress\":\"10.0.0.1\",\"targetPort\":1,\"owner\":\"deployment/a\"},"
                + "{\"protocol\":\"tcp\",\"hostPort\":81,\"targetAddress\":\"10.0.0.2\",\"targetPort\":1,\"owner\":\"deployment/b\"}]}", "forwards[1].hostPort");
    }

    @Test
    void addressesAreParsedStrictlyAndPrintedCanonically() {
        assertThat(Cidr.parse("s", "2001:DB8:0:0::/32").toString()).isEqualTo("2001:db8::/32");
        assertThat(Cidr.parse("s", "10.1.0.0/16").contains(Cidr.parse("s", "10.1.2.0/24"))).isTrue();
        assertThat(IpAddress.tryParse("2001:db8:0:0:1:0:0:1").toString()).isEqualTo("2001:db8::1:0:0:1");
        assertThat(IpAddress.tryParse("010.0.0.1")).isNull();
        assertThat(IpAddress.tryParse("example.com")).isNull();
        assertThat(ElementPlanner.merge(List.of(new PortRange(5, 9), new PortRange(1, 4), new PortRange(20, 20))))
                .containsExactly(new PortRange(1, 9), new PortRange(20, 20));
        assertThat(ElementPlanner.subtract(List.of(new PortRange(1, 100)), List.of(new PortRange(10, 20), new PortRange(50, 100))))
                .containsExactly(new PortRange(1, 9), new PortRange(21, 49));
    }

    @Test
    void nestedSourceNetworksWithOverlappingPortsAreAccepted() throws Exception {
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"80-90\",\"source\":\"10.0.0.0/8\",\"owner\":\"deployment/n1\"}");
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"ports\":\"85-95\",\"source\":\"10.1.0.0/16\",\"owner\":\"deployment/n1\"}");
        g.call("firewall.open", "{\"protocol\":\"tcp\",\"port\":88,\"source\":\"10.1.2.3\",\"owner\":\"deployment/n1\"}");
        assertThat(g.call("firewall.status", "{}").path("inSync").asBoolean()).isTrue();
        assertThat(g.call("firewall.close", "{\"owner\":\"deployment/n1\"}").path("closed").asInt()).isEqualTo(3);
    }
}
