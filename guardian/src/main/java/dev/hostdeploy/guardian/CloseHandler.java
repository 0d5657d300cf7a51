package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import java.util.Map;

/**
 * {@code firewall.close}: closes the opening with exactly the given fields, or with only
 * {@code {"owner"}} everything that owner holds. Closing what is not open is not an error.
 */
final class CloseHandler implements CommandHandler {
    private final Firewall firewall;

    CloseHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        RuleData d = ctx.data(RuleData.class);
        if (d.ownerOnly()) {
            return Map.of("closed", firewall.closeOwner(Owner.parse("owner", d.owner())).closed());
        }
        return Map.of("closed", firewall.close(d.toRule("")).closed());
    }
}
