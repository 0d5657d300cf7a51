package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import java.util.Map;

/** {@code forward.add}: forwards new connections on a host port to a container's address and port. */
final class ForwardAddHandler implements CommandHandler {
    private final Firewall firewall;

    ForwardAddHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Forward f = ctx.data(ForwardData.class).toForward("");
        return Map.of("forward", ForwardData.of(f), "changed", firewall.addForward(f).changed());
    }
}
