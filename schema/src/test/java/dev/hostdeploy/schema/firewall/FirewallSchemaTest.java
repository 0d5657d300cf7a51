package dev.hostdeploy.schema.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardRemove;
import dev.hostdeploy.schema.firewall.FirewallSchema.Opened;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.FirewallSchema.State;
import dev.hostdeploy.schema.firewall.FirewallSchema.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirewallSchemaTest {
    private static final Owner WEB = Owner.of("deployment", "web");

    @Test
    void recordsKeepTheFieldNamesTheGuardianAlwaysSent() throws Exception {
        assertThat(Json.MAPPER.writeValueAsString(new Opened(RuleData.port(Proto.TCP, 8080, WEB), true)))
                .isEqualTo("{\"opened\":{\"protocol\":\"tcp\",\"port\":8080,\"owner\":\"deployment/web\"},\"changed\":true}");
        assertThat(Json.MAPPER.writeValueAsString(new Status("hostdeploy", true, 1, 0, 14, 3, true, List.of(), List.of(22), null)))
                .isEqualTo("{\"table\":\"hostdeploy\",\"tablePresent\":true,\"rules\":1,\"forwards\":0,\"nftRules\":14,"
                        + "\"nftElements\":3,\"inSync\":true,\"drift\":[],\"protectedTcpPorts\":[22],\"lastRepair\":null}");
        ForwardData f = new ForwardData("udp", 27015, "10.0.0.5", 27015, WEB);
        State s = new State(List.of(new RuleData("tcp", null, "8000-8010", "10.0.0.0/8", null, "range")), List.of(f));
        assertThat(Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(s), State.class)).isEqualTo(s);
    }

    @Test
    void aRecordThatExistsHoldsOnlyValidValues() {
        assertThatThrownBy(() -> new RuleData("tcp", 0, null, null, null, null)).isInstanceOf(ProtocolException.class)
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("port");
        assertThatThrownBy(() -> new RuleData("tcp", 80, "80-90", null, null, null))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("port");
        assertThatThrownBy(() -> new RuleData("tcp", 80, null, "10.0.0.1/8", null, null))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("source");
        assertThatThrownBy(() -> new ForwardData("tcp", 80, "example.com", 80, WEB))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("targetAddress");
        assertThatThrownBy(() -> new State(List.of(), List.of(new ForwardData("tcp", 80, "10.0.0.1", 80, WEB),
                new ForwardData("tcp", 80, "10.0.0.2", 80, WEB))))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("forwards[1].hostPort");
    }

    @Test
    void closeAndRemoveTakeEitherOneThingOrAnOwner() {
        assertThat(Close.owner(WEB).ownerOnly()).isTrue();
        assertThat(Close.of(RuleData.port(Proto.UDP, 53, WEB)).rule()).isEqualTo(RuleData.port(Proto.UDP, 53, WEB));
        assertThat(ForwardRemove.owner(WEB).ownerOnly()).isTrue();
        assertThatThrownBy(() -> new ForwardRemove("tcp", null, null))
                .extracting(e -> ((ProtocolException) e).field()).isEqualTo("hostPort");
    }

    @Test
    void portsAreReadOnlyFromWholeNumbers() {
        assertThatThrownBy(() -> Json.MAPPER.readValue("{\"protocol\":\"tcp\",\"port\":\"80\"}", RuleData.class))
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> Json.MAPPER.readValue("{\"protocol\":\"tcp\",\"port\":80.5}", RuleData.class))
                .hasMessageContaining("whole number");
    }
}
