package dev.hostdeploy.guardian.ingress;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.ingress.IngressSchema;
import dev.hostdeploy.schema.ingress.IngressSchema.Remove;
import dev.hostdeploy.schema.ingress.IngressSchema.Removed;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import dev.hostdeploy.schema.ingress.IngressSchema.RouteSet;
import dev.hostdeploy.schema.ingress.IngressSchema.Routes;
import dev.hostdeploy.schema.ingress.IngressSchema.Status;

/**
 * The Guardian's ingress commands ({@link IngressSchema}). Without {@code --caddy-admin} the ingress is
 * off ({@code ingress} is null) and every command answers {@code conflict} saying so.
 */
public final class IngressCommands {
    private final Ingress ingress;

    public IngressCommands(Ingress ingress) {
        this.ingress = ingress;
    }

    public void register(HandlerRegistry registry) {
        registry.register(IngressSchema.SET, this::set);
        registry.register(IngressSchema.REMOVE, this::remove);
        registry.register(IngressSchema.LIST, this::list);
        registry.register(IngressSchema.STATUS, this::status);
    }

    /** Adds or replaces one hostname's route and loads Caddy's new config. */
    private RouteSet set(CommandContext ctx) throws Exception {
        Route r = ctx.data(Route.class);
        return enabled().set(r);
    }

    /** Removes one hostname's route (if the owner, when given, holds it) or all of one owner's. */
    private Removed remove(CommandContext ctx) throws Exception {
        Remove d = ctx.data(Remove.class);
        return enabled().remove(d.host(), d.owner());
    }

    private Routes list(CommandContext ctx) {
        return new Routes(enabled().routes());
    }

    /** Caddy's reachability and drift (reported, repaired by the periodic check) and each route's certificate. */
    private Status status(CommandContext ctx) {
        return enabled().status();
    }

    private Ingress enabled() {
        if (ingress == null) {
            throw new ProtocolException(ErrorCode.CONFLICT,
                    "ingress is not enabled on this host: the Guardian runs without --caddy-admin");
        }
        return ingress;
    }
}
