package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;

/** {@code deploy.sync}: bring a deployment to the commit its ref names now. */
final class SyncHandler implements CommandHandler {
    private final Deployer deployer;

    SyncHandler(Deployer deployer) {
        this.deployer = deployer;
    }

    @Override
    public Object handle(CommandContext ctx) {
        Requests.Sync req = ctx.data(Requests.Sync.class);
        return deployer.sync(req, ProgressSink.of(ctx, req.name()));
    }
}
