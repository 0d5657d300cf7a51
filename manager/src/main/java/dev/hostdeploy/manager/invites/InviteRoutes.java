package dev.hostdeploy.manager.invites;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.http.FailedAuthLimiter;
import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.protocol.ErrorCode;
import dev.hostdeploy.protocol.ProtocolException;
import java.util.List;
import java.util.Map;

/** {@code /invites}: admins invite, and an invitation's code, without a token, makes a user. */
public final class InviteRoutes implements RouteGroup {
    /** What a failed accept is recorded under: the path template, so no code lands in the audit log. */
    static final String ACCEPT_PATH = API + "/invites/{code}/accept";
    /** The reason a failed accept is summed under in the audit log, with the refused tokens. */
    static final String REFUSED_REASON = "invite_not_found";

    private final InviteService invites;
    private final FailedAuthLimiter limiter;
    private final AuditLog audit;

    /**
     * @param limiter counts failed accepts per address like wrong tokens: a code is a credential
     * @param audit where failed accepts are summed, as refused tokens are
     */
    public InviteRoutes(InviteService invites, FailedAuthLimiter limiter, AuditLog audit) {
        this.invites = invites;
        this.limiter = limiter;
        this.audit = audit;
    }

    @Override
    public List<Route> routes() {
        return List.of(
                Route.post(API + "/invites")
                        .doc("createInvite", "Invite someone: a one-time code, shown only in this response, "
                                + "that creates a user with the given role")
                        .audit("invite.create").body("InviteRequest").returns(201, "NewInvite").handle(ctx -> {
                            Invites.InviteRequest req = ctx.body().isBlank() ? new Invites.InviteRequest(null, null)
                                    : Requests.body(ctx, Invites.InviteRequest.class);
                            Invites.NewInvite created = invites.create(req, Requests.caller(ctx).name());
                            Requests.target(ctx, "invite/" + created.id() + " (" + created.role() + ")");
                            ctx.status(201).json(created);
                        }),
                Route.get(API + "/invites").doc("listInvites", "Invitations, newest first (never their codes)")
                        .returns("Invite[]").handle(ctx -> ctx.json(invites.list())),
                Route.delete(API + "/invites/{id}").doc("revokeInvite", "Revoke an unused invitation")
                        .audit("invite.revoke").noContent().handle(ctx -> {
                            Requests.target(ctx, "invite/" + ctx.pathParam("id"));
                            invites.revoke(ctx.pathParam("id"));
                            ctx.status(204);
                        }),
                Route.post(API + "/invites/{code}/accept").open()
                        .doc("acceptInvite", "Accept an invitation (no token): creates the user and its first token, "
                                + "shown only in this response; an unknown, used, expired or revoked code is 404")
                        .audit("invite.accept").body("AcceptInvite").returns(201, "AcceptedInvite").handle(ctx -> {
                            Requests.target(ctx, ACCEPT_PATH);
                            String address = ctx.ip();
                            long wait = limiter.blockedFor(address);
                            if (wait > 0) {
                                long seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
                                ctx.header("Retry-After", Long.toString(seconds));
                                throw new ApiException(429, "too_many_requests",
                                        "too many failed attempts from this address; retry in " + seconds + " s",
                                        Map.of("retryAfterSeconds", seconds));
                            }
                            Invites.AcceptRequest req = Requests.body(ctx, Invites.AcceptRequest.class);
                            Invites.Accepted accepted;
                            try {
                                accepted = invites.accept(ctx.pathParam("code"), req);
                            } catch (ProtocolException e) {
                                if (e.code() == ErrorCode.NOT_FOUND) {
                                    // A guess: counted against the address and summed in the audit log, never
                                    // one entry each (anyone can send these by the thousand).
                                    limiter.failed(address);
                                    audit.refused(address, REFUSED_REASON, ACCEPT_PATH);
                                    Requests.auditedElsewhere(ctx);
                                } else {
                                    Requests.target(ctx, "user/" + req.name());
                                }
                                throw e;
                            }
                            Requests.target(ctx, "user/" + accepted.user().name() + " (invite/" + accepted.inviteId() + ")");
                            ctx.status(201).json(accepted);
                        }));
    }
}
