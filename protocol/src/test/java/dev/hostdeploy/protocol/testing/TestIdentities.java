package dev.hostdeploy.protocol.testing;

import dev.hostdeploy.protocol.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that makes certificates in code: {@code @RegisterExtension static TestIdentities ids
 * = new TestIdentities();} then {@code ids.get("manager")}, or an {@link Identity} test parameter named
 * after its role. The same name gives the same key for the life of the extension.
 */
public final class TestIdentities implements ParameterResolver {
    private final Map<String, Identity> identities = new ConcurrentHashMap<>();

    public Identity get(String name) {
        return identities.computeIfAbsent(name, Identity::generate);
    }

    /** A certificate whose validity ended yesterday, on a fresh key. */
    public Identity expired(String name) {
        return identities.computeIfAbsent("expired:" + name, n -> Identity.generate(name,
                Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(1))));
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == Identity.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return get(p.getParameter().getName());
    }
}
