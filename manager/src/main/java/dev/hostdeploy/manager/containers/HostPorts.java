package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * The one way a container gets a host port of a range for a step that binds it (its SSH port at create or
 * at a restore as a new container, a domain's loopback forward). The Manager's records only know the
 * ports it gave out; a port some host process holds is refused by the Worker ({@code conflict} "host
 * port ..."), so that port stays allocated to the container while the next one is tried (no other
 * container is handed it meanwhile) and is freed once the step is done, whichever way.
 */
final class HostPorts {
    /** Ports tried before the step's failure is the operation's. */
    static final int ATTEMPTS = 5;

    private final ContainerOps ops;

    HostPorts(ContainerOps ops) {
        this.ops = ops;
    }

    /** The port the step ran with, and what it returned. */
    record Bound<T>(int port, T result) {
    }

    /**
     * Allocates a port of [min, max] on the container's host, tells {@code allocated} (to record it before
     * the agent is asked), and runs {@code step} with it; a port the host holds is skipped, up to
     * {@link #ATTEMPTS} ports in all.
     */
    <T> Bound<T> bind(Container c, String opId, int min, int max, IntConsumer allocated, IntFunction<T> step) {
        List<Integer> skipped = new ArrayList<>();
        try {
            for (int attempt = 1; ; attempt++) {
                int port = ops.repo.allocatePort(c.hostId(), c.id(), min, max);
                allocated.accept(port);
                ops.note(c.id(), opId, "port: allocated " + port);
                try {
                    return new Bound<>(port, step.apply(port));
                } catch (RuntimeException e) {
                    if (attempt >= ATTEMPTS || !taken(e)) {
                        throw e;
                    }
                    ops.note(c.id(), opId, "port " + port + " is in use on the host: " + message(e));
                    skipped.add(port);
                }
            }
        } finally {
            skipped.forEach(p -> ops.repo.freePort(c.hostId(), p));
        }
    }

    /** The Worker refused the port because something on the host (a process, another proxy) holds it. */
    static boolean taken(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof AgentCallException a && a.code() == ErrorCode.CONFLICT
                && a.error().message() != null && a.error().message().contains("host port");
    }
}
