package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.HandlerRegistry;

/** The deploy.*, repo.* and host.* commands of the Worker. */
public final class DeployModule implements AutoCloseable {
    private DeployModule() {
    }

    public static DeployModule create(DeployOptions options) {
        return new DeployModule();
    }

    public void register(HandlerRegistry registry) {
    }

    @Override
    public void close() {
    }
}
