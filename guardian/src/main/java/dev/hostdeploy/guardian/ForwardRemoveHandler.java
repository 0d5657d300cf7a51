package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import java.util.Map;

/** {@code forward.remove}: {@code {"protocol","hostPort"}} (owner optional, must match) or {@code {"owner"}}. */
final class ForwardRemoveHandler implements CommandHandler {
    private final Firewall firewall;

    ForwardRemoveHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        ForwardData d = ctx.data(ForwardData.class);
        if (d.ownerOnly()) {
            return Map.of("removed", firewall.removeForwards(Owner.parse("owner", d.owner())).removed());
        }
        Proto proto = Proto.parse("protocol", d.protocol());
        int hostPort = PortRange.port("hostPort", d.hostPort());
        Owner owner = Owner.parse("owner", d.owner());
        return Map.of("removed", firewall.removeForward(proto, hostPort, owner).removed());
    }
}
