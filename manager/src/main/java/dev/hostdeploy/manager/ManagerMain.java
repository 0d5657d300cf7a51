package dev.hostdeploy.manager;

import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.protocol.cli.FingerprintCommand;
import dev.hostdeploy.protocol.cli.InitCommand;
import picocli.CommandLine.Command;

@Command(name = "hostdeploy-manager", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "The hostdeploy Manager: REST API and the driver of every host's Guardian and Worker.",
        subcommands = {ServeCommand.class, HealthCommand.class, InitCommand.class, FingerprintCommand.class,
                DbCommand.class})
public final class ManagerMain {
    public static void main(String[] args) {
        // Before any library makes a TLS context: the JDK reads the key-exchange groups once.
        dev.hostdeploy.protocol.Tls.configureProcess();
        System.exit(Cli.execute(new ManagerMain(), args));
    }
}
