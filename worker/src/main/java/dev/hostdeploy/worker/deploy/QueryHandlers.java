package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandHandler;

/** {@code deploy.status}, {@code deploy.list} and {@code deploy.logs}: read-only, no lock taken. */
final class QueryHandlers {
    private QueryHandlers() {
    }

    static CommandHandler status(Deployer deployer) {
        return ctx -> deployer.status(ctx.data(Requests.Name.class).name());
    }

    static CommandHandler list(Deployer deployer) {
        return ctx -> deployer.list();
    }

    static CommandHandler logs(Deployer deployer) {
        return ctx -> deployer.logs(ctx.data(Requests.Logs.class));
    }
}
