package dev.hostdeploy.worker;

import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.protocol.cli.FingerprintCommand;
import dev.hostdeploy.protocol.cli.InitCommand;
import dev.hostdeploy.protocol.cli.TrustCommand;
import dev.hostdeploy.protocol.cli.TrustedCommand;
import dev.hostdeploy.protocol.cli.UntrustCommand;
import picocli.CommandLine.Command;

/** The Worker: deploys org repos with docker compose and runs members' LXC containers on one host. */
@Command(name = "hostdeploy-worker", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "hostdeploy Worker agent: git + docker compose deployments and LXC member containers.",
        subcommands = {InitCommand.class, FingerprintCommand.class, TrustCommand.class, UntrustCommand.class,
                TrustedCommand.class, WorkerRunCommand.class})
public final class WorkerMain {
    public static void main(String[] args) {
        System.exit(Cli.execute(new WorkerMain(), args));
    }
}
