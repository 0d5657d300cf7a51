package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.HandlerRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The deploy.*, repo.* and host.* commands of the Worker. */
public final class DeployModule implements AutoCloseable {
    private final Containers containers;
    private final Map<String, CommandHandler> handlers = new LinkedHashMap<>();

    private DeployModule(DeployOptions options, Consumer<List<String>> onProcess) {
        options.validate();
        Store store = new Store(options.deployRoot());
        Proc proc = new Proc(onProcess);
        Git git = new Git(proc, options.gitBaseUrl(), options.gitTimeout());
        Compose compose = new Compose(proc, options.compose());
        this.containers = new Containers(options.dockerHost());
        Deployer deployer = new Deployer(options, store, proc, git, compose, containers);
        handlers.put("deploy.sync", new SyncHandler(deployer));
        handlers.put("deploy.status", QueryHandlers.status(deployer));
        handlers.put("deploy.logs", QueryHandlers.logs(deployer));
        handlers.put("deploy.list", QueryHandlers.list(deployer));
        handlers.put("deploy.stop", LifecycleHandlers.stop(deployer));
        handlers.put("deploy.start", LifecycleHandlers.start(deployer));
        handlers.put("deploy.remove", LifecycleHandlers.remove(deployer));
        handlers.put("deploy.rollback", new RollbackHandler(deployer));
        handlers.put("repo.head", new RepoHeadHandler(deployer, git));
        handlers.put("host.stats", new HostStatsHandler(store.root(), containers));
    }

    /**
     * Prepares the deploy root and the Docker client; nothing is contacted yet.
     *
     * @throws IllegalArgumentException when the options are inconsistent (the message names the option)
     */
    public static DeployModule create(DeployOptions options) {
        return new DeployModule(options, command -> { });
    }

    /** With an audit hook told of every git and compose command line before it runs (tests count them). */
    static DeployModule create(DeployOptions options, Consumer<List<String>> onProcess) {
        return new DeployModule(options, onProcess);
    }

    /** Every command blocks on git, compose or the Docker API, so all run on the agent's worker pool. */
    public void register(HandlerRegistry registry) {
        handlers.forEach(registry::register);
    }

    Map<String, CommandHandler> handlers() {
        return handlers;
    }

    @Override
    public void close() {
        containers.close();
    }
}
