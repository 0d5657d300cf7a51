package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.TrustList;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "trusted", mixinStandardHelpOptions = true, description = "List the peers this component accepts.")
public final class TrustedCommand implements Callable<Integer> {
    @Mixin
    DirOption dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        for (TrustList.Peer peer : TrustList.load(dir.dir()).peers()) {
            spec.commandLine().getOut().println(peer.name() + "\t" + peer.fingerprint());
        }
        return ExitCodes.OK;
    }
}
