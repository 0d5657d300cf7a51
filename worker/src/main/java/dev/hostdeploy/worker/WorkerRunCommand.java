package dev.hostdeploy.worker;

import dev.hostdeploy.protocol.AgentServer;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Identity;
import dev.hostdeploy.protocol.TrustList;
import dev.hostdeploy.protocol.cli.AgentOptions;
import dev.hostdeploy.protocol.cli.Cli;
import dev.hostdeploy.protocol.cli.ExitCodes;
import dev.hostdeploy.worker.deploy.DeployModule;
import dev.hostdeploy.worker.deploy.DeployOptions;
import dev.hostdeploy.worker.lxc.LxcModule;
import dev.hostdeploy.worker.lxc.LxcOptions;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Serve the protocol to the trusted Manager.")
final class WorkerRunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerRunCommand.class);

    @Mixin
    AgentOptions agent;

    @Mixin
    DeployOptions deploy;

    @Mixin
    LxcOptions lxc;

    @Override
    public Integer call() throws Exception {
        agent.startLogging("worker");
        Identity identity = agent.identity("worker");
        TrustList trust = agent.trustList();
        if (trust.peers().isEmpty()) {
            LOG.warn("no Manager is trusted yet: nothing can connect until you run "
                    + "'trust --dir {} --name manager --fingerprint sha256:...'", agent.dir());
        }
        HandlerRegistry registry = new HandlerRegistry();
        DeployModule deployModule = DeployModule.create(deploy);
        deployModule.register(registry);
        LxcModule lxcModule = LxcModule.create(lxc);
        lxcModule.register(registry);
        HostSummaryCommand.register(registry, deployModule, lxcModule);
        AgentServer server = AgentServer.builder(identity, trust, registry)
                .listen(agent.listenAddress()).kind("worker").version(Cli.version())
                .details(lxcModule::info).build();
        Cli.serve(server, deployModule, lxcModule);
        return ExitCodes.OK;
    }
}
