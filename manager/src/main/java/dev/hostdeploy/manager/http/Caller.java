package dev.hostdeploy.manager.http;

/** Who a request's token belongs to, as {@code GET /me} shows it. */
public record Caller(String id, String name, String role) {
    public static final String ADMIN = "admin";

    public boolean admin() {
        return ADMIN.equals(role);
    }
}
