package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.schema.host.HostSchema;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The deploy.*, repo.* and host.* commands of the Worker ({@link DeployCommands}) and what they share. */
public final class DeployModule implements AutoCloseable {
    private final Containers containers;
    private final DeployCommands commands;

    private DeployModule(DeployOptions options, Consumer<List<String>> onProcess) {
        options.validate();
        Store store = new Store(options.deployRoot());
        Proc proc = new Proc(onProcess);
        Git git = new Git(proc, options.gitBaseUrl(), options.gitSshBase(), store.root().resolve(".keys"),
                store.root().resolve(".ssh").resolve("known_hosts"), options.gitTimeout());
        Compose compose = new Compose(proc, options.compose());
        this.containers = new Containers(options.dockerHost());
        Deployer deployer = new Deployer(options, store, proc, git, compose, containers);
        this.commands = new DeployCommands(deployer, git, new HostStatsProbe(store.root(), containers));
    }

    /**
     * Prepares the deploy root and the Docker client; nothing is contacted yet.
     *
     * @throws IllegalArgumentException when the options are inconsistent (the message names the option)
     */
    public static DeployModule create(DeployOptions options) {
        return new DeployModule(options, command -> { });
    }

    /** With an audit hook told of every git and compose command line as it starts (tests and benchmarks time them). */
    public static DeployModule create(DeployOptions options, Consumer<List<String>> onProcess) {
        return new DeployModule(options, onProcess);
    }

    public void register(HandlerRegistry registry) {
        commands.register(registry);
    }

    /** The host's figures, as {@code host.stats} answers them. */
    public HostSchema.HostStats hostStats() throws IOException {
        return commands.hostStats();
    }

    /** Every deployment by name and status, from the Worker's records (no Docker call). */
    public List<HostSchema.Item> deploymentItems() {
        return commands.items();
    }

    /** The handlers by command name, for tests that call them without a server. */
    Map<String, CommandHandler> handlers() {
        Map<String, CommandHandler> handlers = new LinkedHashMap<>();
        commands.register(handlers::put);
        return handlers;
    }

    @Override
    public void close() {
        commands.close();
        containers.close();
    }
}
