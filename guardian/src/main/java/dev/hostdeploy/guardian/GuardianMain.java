package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.protocol.cli.FingerprintCommand;
import dev.hostdeploy.protocol.cli.InitCommand;
import dev.hostdeploy.protocol.cli.TrustCommand;
import dev.hostdeploy.protocol.cli.TrustedCommand;
import dev.hostdeploy.protocol.cli.UntrustCommand;
import picocli.CommandLine.Command;

/** {@code hostdeploy-guardian}: the host firewall agent. */
@Command(name = "hostdeploy-guardian", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "Owns this host's firewall table and port forwards on behalf of the hostdeploy Manager.",
        subcommands = {InitCommand.class, FingerprintCommand.class, TrustCommand.class, UntrustCommand.class,
                TrustedCommand.class, RunCommand.class})
public final class GuardianMain {
    public static void main(String[] args) {
        System.exit(Cli.execute(new GuardianMain(), args));
    }
}
