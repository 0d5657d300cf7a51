package dev.hostdeploy.manager.users;

/**
 * Work to do when a user leaves (deleted by an admin, or no longer in the GitHub organisation it signed
 * in through): e.g. stop their containers and close their ports. Registered with
 * {@link UserService#onMemberRemoved}. It runs after the user's tokens are revoked, on the thread that
 * removed the user, so anything slow belongs in a job it starts. A failure is logged and audited; it
 * does not bring the tokens back.
 */
@FunctionalInterface
public interface Offboarding {
    void offboard(String userId) throws Exception;
}
