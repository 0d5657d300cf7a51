package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.DeploySchema.LogsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.NameRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.Progress;
import dev.hostdeploy.schema.deploy.DeploySchema.RemoveRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadResult;
import dev.hostdeploy.schema.deploy.DeploySchema.RollbackRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.SyncRequest;
import dev.hostdeploy.schema.host.HostSchema;
import java.util.function.BiConsumer;

/**
 * The deploy.*, repo.* and host.* commands of the Worker: each name from the schema, each handler here.
 * Every command blocks on git, compose or the Docker API, so all run on the agent's worker pool.
 * Read-only commands (status, list, logs, repo.head, host.stats) take no lock.
 */
final class DeployCommands {
    private final Deployer deployer;
    private final Git git;
    private final HostStatsProbe hostStats;

    DeployCommands(Deployer deployer, Git git, HostStatsProbe hostStats) {
        this.deployer = deployer;
        this.git = git;
        this.hostStats = hostStats;
    }

    void register(HandlerRegistry registry) {
        register(registry::register);
    }

    /** The same registrations into any sink: tests call the handlers by name without a server. */
    void register(BiConsumer<String, CommandHandler> r) {
        r.accept(DeploySchema.SYNC, ctx -> {
            SyncRequest req = ctx.data(SyncRequest.class);
            return deployer.sync(req, progress(ctx, req.name()));
        });
        r.accept(DeploySchema.ROLLBACK, ctx -> {
            RollbackRequest req = ctx.data(RollbackRequest.class);
            return deployer.rollback(req, progress(ctx, req.name()));
        });
        r.accept(DeploySchema.START, ctx -> {
            String name = ctx.data(NameRequest.class).name();
            return deployer.start(name, progress(ctx, name));
        });
        r.accept(DeploySchema.STOP, ctx -> {
            String name = ctx.data(NameRequest.class).name();
            return deployer.stop(name, progress(ctx, name));
        });
        r.accept(DeploySchema.REMOVE, ctx -> {
            RemoveRequest req = ctx.data(RemoveRequest.class);
            return deployer.remove(req, progress(ctx, req.name()));
        });
        r.accept(DeploySchema.STATUS, ctx -> deployer.status(ctx.data(NameRequest.class).name()));
        r.accept(DeploySchema.LIST, ctx -> deployer.list());
        r.accept(DeploySchema.LOGS, ctx -> deployer.logs(ctx.data(LogsRequest.class)));
        r.accept(DeploySchema.REPO_HEAD, this::repoHead);
        r.accept(HostSchema.STATS, ctx -> hostStats.read());
    }

    /** The remote commit of a ref without cloning (git ls-remote), for polling. */
    private RepoHeadResult repoHead(CommandContext ctx) {
        RepoHeadRequest req = ctx.data(RepoHeadRequest.class);
        deployer.requireAllowed(req.repo());
        String commit = git.lsRemote(req.repo(), req.ref()).orElseThrow(() -> ProtocolException.notFound(
                "ref '" + (req.ref() == null ? "HEAD" : req.ref()) + "' not found in " + req.repo()));
        return new RepoHeadResult(req.repo(), req.ref(), commit);
    }

    /** Pipeline lines, already redacted, become the request's progress frames. */
    private static Deployer.Sink progress(CommandContext ctx, String name) {
        return (stage, line) -> ctx.progress(new Progress(name, stage, line));
    }
}
