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
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadItem;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadsRequest;
import dev.hostdeploy.schema.deploy.DeploySchema.RepoHeadsResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
    /** How many {@code git ls-remote} of one {@code repo.heads} call run at once. */
    static final int HEADS_PARALLEL = 8;
    private final ExecutorService headsPool = Executors.newFixedThreadPool(HEADS_PARALLEL, r -> {
        Thread t = new Thread(r, "repo-heads");
        t.setDaemon(true);
        return t;
    });

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
        r.accept(DeploySchema.REPO_HEADS, ctx -> repoHeads(ctx.data(RepoHeadsRequest.class)));
        r.accept(HostSchema.STATS, ctx -> hostStats.read());
    }

    /** For {@code host.summary}: the host's figures, as {@code host.stats} answers them. */
    HostSchema.HostStats hostStats() throws java.io.IOException {
        return hostStats.read();
    }

    /** For {@code host.summary}: every deployment by name and status. */
    List<HostSchema.Item> items() {
        return deployer.items();
    }

    /** The remote commit of a ref without cloning (git ls-remote), for polling. */
    private RepoHeadResult repoHead(CommandContext ctx) {
        return head(ctx.data(RepoHeadRequest.class));
    }

    /**
     * Many heads in one call, each its own {@code git ls-remote}, at most {@link #HEADS_PARALLEL} at once
     * (the Manager's poller sends one batch per host per tick); a repo that fails gets its error, the rest
     * their commits. The same repo and ref asked twice is asked of the remote once.
     */
    private RepoHeadsResult repoHeads(RepoHeadsRequest req) throws InterruptedException {
        Map<RepoHeadRequest, Future<RepoHeadItem>> asked = new LinkedHashMap<>();
        for (RepoHeadRequest r : req.repos()) {
            asked.computeIfAbsent(r, k -> headsPool.submit(() -> {
                try {
                    RepoHeadResult h = head(k);
                    return new RepoHeadItem(k.repo(), k.ref(), h.commit(), null);
                } catch (ProtocolException e) {
                    return new RepoHeadItem(k.repo(), k.ref(), null, e.toErrorData());
                } catch (RuntimeException e) {
                    return new RepoHeadItem(k.repo(), k.ref(), null,
                            ErrorData.of(ErrorCode.INTERNAL, String.valueOf(e.getMessage()), null));
                }
            }));
        }
        List<RepoHeadItem> out = new ArrayList<>();
        for (RepoHeadRequest r : req.repos()) {
            try {
                out.add(asked.get(r).get());
            } catch (ExecutionException e) {
                out.add(new RepoHeadItem(r.repo(), r.ref(), null,
                        ErrorData.of(ErrorCode.INTERNAL, String.valueOf(e.getCause()), null)));
            }
        }
        return new RepoHeadsResult(out);
    }

    private RepoHeadResult head(RepoHeadRequest req) {
        deployer.requireAllowed(req.repo());
        String commit = git.lsRemote(req.repo(), req.ref(), req.deployKey()).orElseThrow(() -> ProtocolException.notFound(
                "ref '" + (req.ref() == null ? "HEAD" : req.ref()) + "' not found in " + req.repo()));
        return new RepoHeadResult(req.repo(), req.ref(), commit);
    }

    void close() {
        headsPool.shutdownNow();
    }

    /** Pipeline lines, already redacted, become the request's progress frames. */
    private static Deployer.Sink progress(CommandContext ctx, String name) {
        return (stage, line) -> ctx.progress(new Progress(name, stage, line));
    }
}
