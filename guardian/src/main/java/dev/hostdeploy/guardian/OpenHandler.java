package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import java.util.Map;

/** {@code firewall.open}: opens a port or range, optionally for one source network. Idempotent. */
final class OpenHandler implements CommandHandler {
    private final Firewall firewall;

    OpenHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Rule rule = ctx.data(RuleData.class).toRule("");
        Firewall.Change c = firewall.open(rule);
        return Map.of("opened", RuleData.of(rule), "changed", c.changed());
    }
}
