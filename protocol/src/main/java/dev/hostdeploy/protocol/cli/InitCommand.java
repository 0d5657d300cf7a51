package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.Identity;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Create this component's key (EC P-256) and self-signed certificate, or keep the "
                + "existing ones; prints the fingerprint either way.")
public final class InitCommand implements Callable<Integer> {
    @Mixin
    DirOption dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        boolean existed = Identity.exists(dir.dir());
        Identity identity = Identity.loadOrCreate(dir.dir(), spec.root().name());
        spec.commandLine().getErr().println((existed ? "identity exists in " : "created identity in ") + dir.dir());
        spec.commandLine().getOut().println(identity.fingerprint());
        return ExitCodes.OK;
    }
}
