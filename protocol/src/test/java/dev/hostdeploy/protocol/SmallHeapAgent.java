package dev.hostdeploy.protocol;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * An agent alone in a JVM, for tests that need the agent's own heap limit (as the units give it):
 * {@code SmallHeapAgent IDENTITY_DIR MANAGER_FINGERPRINT} prints {@code PORT n} once listening and
 * runs until its stdin closes.
 */
public final class SmallHeapAgent {
    private SmallHeapAgent() {
    }

    public static void main(String[] args) throws Exception {
        Identity identity = Identity.load(Path.of(args[0]));
        AgentServer server = AgentServer.builder(identity, TrustPolicy.exactly(List.of(args[1])), new HandlerRegistry())
                .listen(new InetSocketAddress("127.0.0.1", 0)).kind("small-heap-agent").build();
        server.start();
        System.out.println("PORT " + server.port());
        System.out.flush();
        while (System.in.read() != -1) {
            // runs until the test closes our stdin
        }
        server.close();
    }
}
