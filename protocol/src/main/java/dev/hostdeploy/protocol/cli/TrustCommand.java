package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.Fingerprints;
import dev.hostdeploy.protocol.Identity;
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

    @Option(names = "--create",
            description = "Create this component's identity in DIR first if it has none (as init does)")
    boolean create;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        TrustList.Peer peer = new TrustList.Peer(name, Fingerprints.normalize(fingerprint)); // checks both first
        // A trust list beside no identity is almost always a mistyped --dir: the agent would never read it.
        if (!Identity.exists(dir.dir())) {
            if (!create) {
                throw new ExitCodes.NotFoundException("no identity in " + dir.dir() + " (key.pem, cert.pem): "
                        + "check --dir, or run init --dir " + dir.dir() + " first, or add --create");
            }
            Identity identity = Identity.loadOrCreate(dir.dir(), spec.root().name());
            spec.commandLine().getErr().println("created identity in " + dir.dir() + ": " + identity.fingerprint());
        }
        TrustList.load(dir.dir()).trust(peer.name(), peer.fingerprint());
        spec.commandLine().getOut().println("trusted " + peer.name() + " " + peer.fingerprint());
        return ExitCodes.OK;
    }
}
