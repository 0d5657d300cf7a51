package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandHandler;

/** {@code deploy.start}, {@code deploy.stop} and {@code deploy.remove}. */
final class LifecycleHandlers {
    private LifecycleHandlers() {
    }

    static CommandHandler start(Deployer deployer) {
        return ctx -> {
            Requests.Name req = ctx.data(Requests.Name.class);
            return deployer.start(req.name(), ProgressSink.of(ctx, req.name()));
        };
    }

    static CommandHandler stop(Deployer deployer) {
        return ctx -> {
            Requests.Name req = ctx.data(Requests.Name.class);
            return deployer.stop(req.name(), ProgressSink.of(ctx, req.name()));
        };
    }

    static CommandHandler remove(Deployer deployer) {
        return ctx -> {
            Requests.Remove req = ctx.data(Requests.Remove.class);
            return deployer.remove(req, ProgressSink.of(ctx, req.name()));
        };
    }
}
