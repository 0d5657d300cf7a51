package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;

/** {@code deploy.rollback}: redeploy an earlier commit of the same repository. */
final class RollbackHandler implements CommandHandler {
    private final Deployer deployer;

    RollbackHandler(Deployer deployer) {
        this.deployer = deployer;
    }

    @Override
    public Object handle(CommandContext ctx) {
        Requests.Rollback req = ctx.data(Requests.Rollback.class);
        return deployer.rollback(req, ProgressSink.of(ctx, req.name()));
    }
}
