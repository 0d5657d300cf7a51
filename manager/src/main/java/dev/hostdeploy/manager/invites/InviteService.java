package dev.hostdeploy.manager.invites;

import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.manager.users.Users;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Invitations: an admin makes a one-time code, and whoever holds it creates their own user with it. */
public final class InviteService {
    private static final Logger LOG = LoggerFactory.getLogger(InviteService.class);

    private final Invites invites;
    private final UserService users;
    /**
     * Accepts run one at a time: the claim is a conditional update, atomic on MongoDB, but the embedded
     * store runs concurrent commands without isolating them. Accepts are rare; one lock costs nothing.
     */
    private final Object accepting = new Object();

    public InviteService(Invites invites, UserService users) {
        this.invites = invites;
        this.users = users;
    }

    public Invites.NewInvite create(Invites.InviteRequest request, String createdBy) {
        return invites.create(request.role(), createdBy, Duration.ofSeconds(request.expiresIn()));
    }

    public List<Invites.Invite> list() {
        return invites.list();
    }

    public Invites.Invite revoke(String id) {
        return invites.revoke(id);
    }

    /**
     * Makes the user an invitation promises and its first token. An unknown, used, expired or revoked code
     * is 404 and nothing is created; so is a failure midway (e.g. the name is taken, 409): the invitation
     * is given back and no user remains.
     */
    public Invites.Accepted accept(String code, Invites.AcceptRequest request) {
        synchronized (accepting) {
            Invites.Invite invite = invites.claim(code, Instant.now())
                    .orElseThrow(() -> ProtocolException.notFound("no usable invitation with this code "
                            + "(unknown, used, expired or revoked)"));
            try {
                Users.Created created = users.createWithToken(new Users.NewUser(request.name(), invite.role()),
                        "invite", user -> invites.completed(invite.id(), user));
                LOG.info("invitation {} accepted: user {} ({}) created as {}", invite.id(), created.user().name(),
                        created.user().id(), invite.role());
                return new Invites.Accepted(created.user(), created.token(), invite.id());
            } catch (RuntimeException e) {
                try {
                    invites.release(invite.id());
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
