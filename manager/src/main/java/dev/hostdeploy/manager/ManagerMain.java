package dev.hostdeploy.manager;

import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.protocol.cli.FingerprintCommand;
import dev.hostdeploy.protocol.cli.InitCommand;
import picocli.CommandLine.Command;

@Command(name = "hostdeploy-manager", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "The hostdeploy Manager: REST API and the driver of every host's Guardian and Worker.",
        subcommands = {ServeCommand.class, HealthCommand.class, InitCommand.class, FingerprintCommand.class,
                DbCommand.class, CdsTrainingCommand.class})
public final class ManagerMain {
    public static void main(String[] args) {
        commonPoolOfTwo();
        // Before any library makes a TLS context: the JDK reads the key-exchange groups once.
        dev.hostdeploy.protocol.Tls.configureProcess();
        System.exit(Cli.execute(new ManagerMain(), args));
    }

    /**
     * On one or two CPUs the JDK sizes the common pool to one thread, and then CompletableFuture runs
     * every {@code *Async} step without an executor on a new thread of its own. The JDK's HttpClient has
     * such a step in each WebSocket's opening handshake: a Manager reconnecting 2,000 agents started and
     * ended 2,000 threads. Two threads at least keep those steps on the pool. Set before anything
     * touches ForkJoinPool (it reads the property once); an operator's own setting wins.
     */
    static void commonPoolOfTwo() {
        String property = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(property) == null && Runtime.getRuntime().availableProcessors() <= 2) {
            System.setProperty(property, "2");
        }
    }
}
