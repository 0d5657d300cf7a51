package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import java.util.Map;

/** {@code firewall.list}: the desired state, in the same shape {@code firewall.apply} takes. */
final class ListHandler implements CommandHandler {
    private final Firewall firewall;

    ListHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) {
        FirewallState s = firewall.state();
        return Map.of("rules", s.rules().stream().map(RuleData::of).toList(),
                "forwards", s.forwards().stream().map(ForwardData::of).toList());
    }
}
