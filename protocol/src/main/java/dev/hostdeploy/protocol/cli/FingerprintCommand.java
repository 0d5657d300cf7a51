package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.Identity;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "fingerprint", mixinStandardHelpOptions = true,
        description = "Print this component's public-key fingerprint (what peers trust).")
public final class FingerprintCommand implements Callable<Integer> {
    @Mixin
    DirOption dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        spec.commandLine().getOut().println(Identity.load(dir.dir()).fingerprint());
        return ExitCodes.OK;
    }
}
