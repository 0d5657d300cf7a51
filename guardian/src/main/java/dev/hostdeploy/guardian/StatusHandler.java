package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;

/** {@code firewall.status}: whether the table is present, counts, and drift (reported, not repaired). */
final class StatusHandler implements CommandHandler {
    private final Firewall firewall;

    StatusHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        return firewall.status();
    }
}
