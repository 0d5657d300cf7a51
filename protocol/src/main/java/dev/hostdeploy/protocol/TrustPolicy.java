package dev.hostdeploy.protocol;

import java.util.Collection;
import java.util.Set;

/** Decides which peer public keys (by fingerprint) a component accepts. No CA chains, no hostnames. */
@FunctionalInterface
public interface TrustPolicy {
    boolean trusts(String fingerprint);

    /** Trusts exactly these fingerprints (normalized; a bad one is refused here, not at handshake time). */
    static TrustPolicy exactly(Collection<String> fingerprints) {
        Set<String> set = Set.copyOf(fingerprints.stream().map(Fingerprints::normalize).toList());
        return set::contains;
    }
}
