package dev.hostdeploy.manager.agents;

/**
 * What feature code learns about Guardians from the registry: each (re)connect, and each firewall change
 * an admin makes through the command passthrough, so the Manager's desired state can include it.
 */
public interface GuardianListener {
    /** A host's Guardian is (again) connected. Called on an I/O thread: do not block. */
    default void connected(String hostId) {
    }

    /**
     * A firewall command an admin sends through the passthrough, before it is sent: returns the data to
     * send instead (e.g. with a {@code manual/…} owner filled in). Must not throw on bad data: the
     * Guardian answers that.
     */
    default Object beforePassthrough(String actor, String hostId, String command, Object data) {
        return data;
    }

    /** The Guardian accepted that command with that data. */
    default void passedThrough(String hostId, String command, Object data) {
    }

    /** One listener telling each of {@code listeners} in turn (the firewall's and the ingress's reconcilers). */
    static GuardianListener all(GuardianListener... listeners) {
        java.util.List<GuardianListener> ls = java.util.List.of(listeners);
        return new GuardianListener() {
            @Override
            public void connected(String hostId) {
                ls.forEach(l -> l.connected(hostId));
            }

            @Override
            public Object beforePassthrough(String actor, String hostId, String command, Object data) {
                Object d = data;
                for (GuardianListener l : ls) {
                    d = l.beforePassthrough(actor, hostId, command, d);
                }
                return d;
            }

            @Override
            public void passedThrough(String hostId, String command, Object data) {
                ls.forEach(l -> l.passedThrough(hostId, command, data));
            }
        };
    }
}
