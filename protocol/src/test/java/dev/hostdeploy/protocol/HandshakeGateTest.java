package dev.hostdeploy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which pending connection makes room for a newcomer, and when one runs out of time. */
class HandshakeGateTest {
    static final InetAddress A = address(1);
    static final InetAddress B = address(2);
    final HandshakeGate<String> gate = new HandshakeGate<>(4, 2, 1000);

    static InetAddress address(int n) {
        try {
            return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) n});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anAddressAtItsLimitMakesRoomWithItsOwnOldestConnection() {
        assertThat(gate.admit("a1", A, 0)).isEmpty();
        assertThat(gate.admit("b1", B, 1)).isEmpty();
        assertThat(gate.admit("a2", A, 2)).isEmpty();
        assertThat(gate.admit("a3", A, 3)).containsExactly("a1");
        assertThat(gate.size()).isEqualTo(3);
    }

    @Test
    void aFullPoolMakesRoomWithTheOldestOfAll() {
        HandshakeGate<String> wide = new HandshakeGate<>(3, 3, 1000);
        wide.admit("a1", A, 0);
        wide.admit("b1", B, 1);
        wide.admit("a2", A, 2);
        assertThat(wide.admit("c1", address(3), 3)).containsExactly("a1");
    }

    @Test
    void idleConnectionsGoBeforeOnesMidHandshakeAndAuthenticatedOnesLast() {
        HandshakeGate<String> one = new HandshakeGate<>(3, 3, 1000);
        one.admit("manager", A, 0);
        one.advance("manager", HandshakeGate.Stage.AUTHENTICATED);
        one.admit("slow", A, 1);
        one.advance("slow", HandshakeGate.Stage.TLS);
        one.admit("idle", A, 2);
        assertThat(one.admit("n1", A, 3)).containsExactly("idle");
        assertThat(one.admit("n2", A, 4)).containsExactly("n1");
        one.advance("n2", HandshakeGate.Stage.TLS);
        assertThat(one.admit("n3", A, 5)).containsExactly("slow");
    }

    @Test
    void connectionsPastTheTimeoutExpireOldestFirstAndDoneOnesAreForgotten() {
        gate.admit("a1", A, 0);
        gate.admit("b1", B, 500);
        gate.admit("a2", A, 900);
        gate.done("b1");
        assertThat(gate.expired(1499)).containsExactly("a1");
        assertThat(gate.expired(1900)).containsExactly("a2");
        assertThat(gate.size()).isZero();
        assertThat(gate.admit("a3", A, 2000)).isEmpty();
        assertThat(gate.admit("a4", A, 2001)).isEmpty();
    }

    @Test
    void stagesNeverGoBackwards() {
        gate.admit("a1", A, 0);
        gate.advance("a1", HandshakeGate.Stage.AUTHENTICATED);
        gate.advance("a1", HandshakeGate.Stage.TLS);
        gate.admit("a2", A, 1);
        assertThat(gate.admit("a3", A, 2)).isEqualTo(List.of("a2"));
    }
}
