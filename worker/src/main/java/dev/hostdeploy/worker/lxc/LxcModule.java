package dev.hostlxc.worker.lxc;

import dev.hostlxc.protocol.HandlerRegistry;

/** The lxc.* commands of the Worker. */
public final class LxcModule implements AutoCloseable {
    private LxcModule() {
    }

    public static LxcModule create(LxcOptions options) {
        return new LxcModule();
    }

    public void register(HandlerRegistry registry) {
    }

    @Override
    public void close() {
    }
}
