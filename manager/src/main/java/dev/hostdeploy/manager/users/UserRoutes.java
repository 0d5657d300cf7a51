package dev.hostdeploy.manager.users;

import static dev.hostdeploy.manager.http.Route.API;

import dev.hostdeploy.manager.http.Requests;
import dev.hostdeploy.manager.http.Route;
import dev.hostdeploy.manager.http.RouteGroup;
import java.util.List;

/** {@code /me}, {@code /users} and {@code /tokens}. */
public final class UserRoutes implements RouteGroup {
    private final UserService users;

    public UserRoutes(UserService users) {
        this.users = users;
    }

    @Override
    public List<Route> routes() {
        return List.of(
                Route.get(API + "/me").member().doc("getMe", "The user the token belongs to").returns("User")
                        .handle(ctx -> ctx.json(Requests.caller(ctx))),
                Route.get(API + "/me/keys").member().doc("getMyKeys", "The caller's SSH public keys")
                        .returns("SshKeyList")
                        .handle(ctx -> ctx.json(new Users.SshKeyList(users.keys(Requests.caller(ctx).id())))),
                Route.put(API + "/me/keys").member()
                        .doc("setMyKeys", "Replace the caller's SSH public keys (new containers get them)")
                        .audit("user.keys").body("SshKeyList").returns("SshKeyList").handle(ctx -> {
                            Requests.target(ctx, "user/" + Requests.caller(ctx).name());
                            ctx.json(users.setKeys(Requests.caller(ctx).id(), Requests.body(ctx, Users.SshKeyList.class)));
                        }),
                Route.patch(API + "/users/{id}")
                        .doc("updateUser", "Override a member's container quota; a null field is the default")
                        .audit("user.update").body("UserPatch").returns("UserQuota").handle(ctx -> {
                            Requests.target(ctx, "user/" + ctx.pathParam("id"));
                            Users.UserPatch patch = Requests.body(ctx, Users.UserPatch.class);
                            Users.UserQuota q = users.patch(ctx.pathParam("id"), patch);
                            Requests.target(ctx, "user/" + q.name());
                            ctx.json(q);
                        }),
                Route.get(API + "/users").doc("listUsers", "All users").returns("User[]")
                        .handle(ctx -> ctx.json(users.list())),
                Route.post(API + "/users").doc("createUser", "Create a user (role admin or member, default member)")
                        .audit("user.create").body("NewUser").returns(201, "User").handle(ctx -> {
                            Users.NewUser req = Requests.body(ctx, Users.NewUser.class);
                            Requests.target(ctx, "user/" + req.name());
                            ctx.status(201).json(users.create(req));
                        }),
                Route.get(API + "/users/{id}").doc("getUser", "One user").returns("User")
                        .handle(ctx -> ctx.json(users.require(ctx.pathParam("id")))),
                Route.delete(API + "/users/{id}")
                        .doc("deleteUser", "Delete a user, revoke all its tokens and run the offboarding steps (e.g. its containers)")
                        .audit("user.delete").noContent().handle(ctx -> {
                            Requests.target(ctx, "user/" + ctx.pathParam("id"));
                            Users.User u = users.delete(ctx.pathParam("id"), Requests.actor(ctx), ctx.ip()).user();
                            Requests.target(ctx, "user/" + u.name());
                            ctx.status(204);
                        }),
                Route.get(API + "/users/{id}/tokens").doc("listTokens", "A user's tokens (never the token values)")
                        .returns("TokenInfo[]").handle(ctx -> ctx.json(users.tokens(ctx.pathParam("id")))),
                Route.post(API + "/users/{id}/tokens")
                        .doc("createToken", "Create a token for a user; the token value is shown only in this response")
                        .audit("token.create").body("TokenRequest").returns(201, "NewToken").handle(ctx -> {
                            Users.User u = users.require(ctx.pathParam("id"));
                            Requests.target(ctx, "user/" + u.name());
                            Users.TokenRequest req = ctx.body().isBlank() ? new Users.TokenRequest(null)
                                    : Requests.body(ctx, Users.TokenRequest.class);
                            Users.NewToken t = users.createToken(u.id(), req.name());
                            Requests.target(ctx, "user/" + u.name() + "/token/" + t.id());
                            ctx.status(201).json(t);
                        }),
                Route.delete(API + "/tokens/{id}").doc("revokeToken", "Revoke a token").audit("token.revoke")
                        .noContent().handle(ctx -> {
                            Requests.target(ctx, "token/" + ctx.pathParam("id"));
                            users.revokeToken(ctx.pathParam("id"));
                            ctx.status(204);
                        }));
    }
}
