package dev.hostdeploy.worker.deploy;

import dev.hostdeploy.protocol.CommandContext;

/** Sends pipeline lines as the request's {@code progress} frames; lines arrive already redacted. */
final class ProgressSink {
    private ProgressSink() {
    }

    static Deployer.Sink of(CommandContext ctx, String name) {
        return (stage, line) -> ctx.progress(new Replies.Progress(name, stage, line));
    }
}
