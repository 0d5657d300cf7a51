package dev.hostdeploy.manager.containers;

import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.ingress.Hostname;

/**
 * Members' container domains: {@code NAME.suffix} ({@code --member-domain-suffix}; null: off), the
 * loopback host ports their container ports are exposed on ({@code --member-http-port-range}, given
 * out per host like SSH ports), and the default number a member may have.
 */
public record DomainSettings(String suffix, int portMin, int portMax, int maxDomains) {
    public DomainSettings {
        if (suffix != null) {
            String s = suffix.startsWith(".") ? suffix.substring(1) : suffix;
            try {
                suffix = Hostname.parse("--member-domain-suffix", s);
            } catch (ProtocolException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
        if (portMin < 1024 || portMax > 65535 || portMin > portMax) {
            throw new IllegalArgumentException("--member-http-port-range must be LOW-HIGH within 1024-65535");
        }
        if (maxDomains < 0) {
            throw new IllegalArgumentException("--max-domains-per-member must be 0 or more");
        }
    }

    public static DomainSettings off() {
        return new DomainSettings(null, 23000, 23999, 3);
    }
}
