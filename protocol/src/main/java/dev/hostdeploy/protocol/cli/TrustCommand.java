package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.Fingerprints;
import dev.hostdeploy.protocol.TrustList;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "trust", mixinStandardHelpOptions = true,
        description = "Accept the peer with this public-key fingerprint under a name (replaces that name's key).")
public final class TrustCommand implements Callable<Integer> {
    @Mixin
    DirOption dir;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "A name for the peer, e.g. manager")
    String name;

    @Option(names = "--fingerprint", required = true, paramLabel = "sha256:HEX",
            description = "The peer's fingerprint, as its 'fingerprint' command prints it")
    String fingerprint;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String normalized = Fingerprints.normalize(fingerprint);
        TrustList.load(dir.dir()).trust(name, normalized);
        spec.commandLine().getOut().println("trusted " + name + " " + normalized);
        return ExitCodes.OK;
    }
}
