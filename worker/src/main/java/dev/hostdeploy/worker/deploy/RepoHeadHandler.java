package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.ProtocolException;

/** {@code repo.head}: the remote commit of a ref without cloning (git ls-remote), for polling. */
final class RepoHeadHandler implements CommandHandler {
    private final Deployer deployer;
    private final Git git;

    RepoHeadHandler(Deployer deployer, Git git) {
        this.deployer = deployer;
        this.git = git;
    }

    @Override
    public Object handle(CommandContext ctx) {
        Requests.RepoHead req = ctx.data(Requests.RepoHead.class);
        deployer.requireAllowed(req.repo());
        String commit = git.lsRemote(req.repo(), req.ref()).orElseThrow(() -> ProtocolException.notFound(
                "ref '" + (req.ref() == null ? "HEAD" : req.ref()) + "' not found in " + req.repo()));
        return new Replies.RepoHead(req.repo(), req.ref(), commit);
    }
}
