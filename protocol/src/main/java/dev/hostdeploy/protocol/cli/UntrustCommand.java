package dev.hostdeploy.protocol.cli;

import dev.hostdeploy.protocol.TrustList;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "untrust", mixinStandardHelpOptions = true, description = "Stop accepting the named peer.")
public final class UntrustCommand implements Callable<Integer> {
    @Mixin
    DirOption dir;

    @Option(names = "--name", required = true, paramLabel = "NAME")
    String name;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!TrustList.load(dir.dir()).untrust(name)) {
            throw new ExitCodes.NotFoundException("no trusted peer named '" + name + "'");
        }
        spec.commandLine().getOut().println("untrusted " + name);
        return ExitCodes.OK;
    }
}
