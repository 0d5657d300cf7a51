package dev.hostdeploy.guardian;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.guardian.state.FirewallState;
import dev.hostdeploy.guardian.state.Forward;
import dev.hostdeploy.guardian.state.HostPort;
import dev.hostdeploy.guardian.state.Rule;
import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.firewall.FirewallSchema.Applied;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.Closed;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardAdded;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardRemove;
import dev.hostdeploy.schema.firewall.FirewallSchema.Opened;
import dev.hostdeploy.schema.firewall.FirewallSchema.Removed;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.FirewallSchema.State;
import dev.hostdeploy.schema.firewall.FirewallSchema.Status;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The Guardian's commands ({@link FirewallSchema}): each one a method here, registered by name below. */
final class FirewallCommands {
    private final Firewall firewall;

    FirewallCommands(Firewall firewall) {
        this.firewall = firewall;
    }

    void register(HandlerRegistry registry) {
        registry.register(FirewallSchema.OPEN, this::open);
        registry.register(FirewallSchema.CLOSE, this::close);
        registry.register(FirewallSchema.FORWARD_ADD, this::forwardAdd);
        registry.register(FirewallSchema.FORWARD_REMOVE, this::forwardRemove);
        registry.register(FirewallSchema.LIST, this::list);
        registry.register(FirewallSchema.APPLY, this::apply);
        registry.register(FirewallSchema.STATUS, this::status);
        registry.register(FirewallSchema.SUMMARY, ctx -> new FirewallSchema.Summary(list(ctx), status(ctx)));
    }

    /** Opens a port or range, optionally for one source network. Idempotent. */
    private Opened open(CommandContext ctx) throws Exception {
        Rule rule = Rule.of(ctx.data(RuleData.class));
        boolean changed = firewall.open(rule);
        return new Opened(rule.data(), changed);
    }

    /** Closes the opening with exactly the given fields, or everything one owner holds. Closing what is not open is not an error. */
    private Closed close(CommandContext ctx) throws Exception {
        Close d = ctx.data(Close.class);
        return new Closed(d.ownerOnly() ? firewall.closeOwner(d.owner()) : firewall.close(Rule.of(d.rule())));
    }

    /** Forwards new connections on a host port to a container's address and port. */
    private ForwardAdded forwardAdd(CommandContext ctx) throws Exception {
        Forward f = Forward.of(ctx.data(ForwardData.class));
        boolean changed = firewall.addForward(f);
        return new ForwardAdded(f.data(), changed);
    }

    private Removed forwardRemove(CommandContext ctx) throws Exception {
        ForwardRemove d = ctx.data(ForwardRemove.class);
        return new Removed(d.ownerOnly() ? firewall.removeForwards(d.owner())
                : firewall.removeForward(new HostPort(d.proto(), d.hostPort()), d.owner()));
    }

    /** The desired state, in the shape {@code firewall.apply} takes. */
    private State list(CommandContext ctx) {
        FirewallState s = firewall.state();
        return new State(s.rules().stream().map(Rule::data).toList(), s.forwards().stream().map(Forward::data).toList());
    }

    /**
     * Replaces the whole desired state in one nft transaction. Every item is checked first, each
     * named by its place ({@code rules[3].port}); one bad item refuses the whole request.
     */
    private Applied apply(CommandContext ctx) throws Exception {
        State d = new State(items(ctx.data(), "rules", RuleData.class), items(ctx.data(), "forwards", ForwardData.class));
        List<Rule> rules = d.rules().stream().map(Rule::of).toList();
        List<Forward> forwards = d.forwards().stream().map(Forward::of).toList();
        return firewall.apply(new FirewallState(FirewallState.EMPTY.withRules(rules).rules(), forwards));
    }

    /** Whether the table is present, counts, and drift (reported, not repaired). */
    private Status status(CommandContext ctx) throws Exception {
        return firewall.status();
    }

    /**
     * Binds each item of a list on its own, so a bad value is named with its place in the list
     * (binding the whole {@link State} at once would name only the item's own field).
     */
    private static <T> List<T> items(JsonNode data, String field, Class<T> type) {
        JsonNode list = data.get(field);
        if (list == null || list.isNull()) {
            return List.of();
        }
        if (!list.isArray()) {
            throw ProtocolException.invalid(field, "must be a list");
        }
        List<T> out = new ArrayList<>(list.size());
        for (JsonNode item : list) {
            String at = field + "[" + out.size() + "]";
            if (!item.isObject()) {
                throw ProtocolException.invalid(at, "must be an object");
            }
            try {
                out.add(Json.MAPPER.treeToValue(item, type));
            } catch (JsonMappingException e) {
                if (e.getCause() instanceof ProtocolException pe && pe.field() != null) {
                    String message = pe.getMessage().startsWith(pe.field() + ": ")
                            ? pe.getMessage().substring(pe.field().length() + 2) : pe.getMessage();
                    throw ProtocolException.invalid(at + "." + pe.field(), message);
                }
                String path = e.getPath().stream()
                        .map(r -> r.getFieldName() != null ? "." + r.getFieldName() : "[" + r.getIndex() + "]")
                        .collect(Collectors.joining());
                throw ProtocolException.invalid(at + path, "has the wrong type or format");
            } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
                throw ProtocolException.invalid(at, "could not be read");
            }
        }
        return out;
    }
}
