package dev.hostdeploy.guardian;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code firewall.apply}: replaces the whole desired state in one nft transaction. Every item is
 * validated first; one bad item refuses the whole request.
 */
final class ApplyHandler implements CommandHandler {
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ApplyData(JsonNode rules, JsonNode forwards) {
    }

    private final Firewall firewall;

    ApplyHandler(Firewall firewall) {
        this.firewall = firewall;
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        ApplyData d = ctx.data(ApplyData.class);
        List<Rule> rules = new ArrayList<>();
        for (JsonNode item : list(d.rules(), "rules")) {
            String at = "rules[" + rules.size() + "].";
            rules.add(bind(item, RuleData.class, at).toRule(at));
        }
        List<Forward> forwards = new ArrayList<>();
        for (JsonNode item : list(d.forwards(), "forwards")) {
            String at = "forwards[" + forwards.size() + "].";
            Forward f = bind(item, ForwardData.class, at).toForward(at);
            for (int j = 0; j < forwards.size(); j++) {
                if (forwards.get(j).sameHostPort(f)) {
                    throw ProtocolException.invalid(at + "hostPort", "already used by forwards[" + j + "]");
                }
            }
            forwards.add(f);
        }
        FirewallState next = new FirewallState(FirewallState.EMPTY.withRules(rules).rules(), forwards);
        Firewall.Applied a = firewall.apply(next);
        return Map.of("rules", a.rules(), "forwards", a.forwards(), "elements", a.elements());
    }

    private static Iterable<JsonNode> list(JsonNode n, String field) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw ProtocolException.invalid(field, "must be a list");
        }
        return n;
    }

    private static <T> T bind(JsonNode item, Class<T> type, String at) {
        if (!item.isObject()) {
            throw ProtocolException.invalid(at.substring(0, at.length() - 1), "must be an object");
        }
        try {
            return Json.MAPPER.treeToValue(item, type);
        } catch (Exception e) {
            throw ProtocolException.invalid(at.substring(0, at.length() - 1), "has a field of the wrong type");
        }
    }
}
