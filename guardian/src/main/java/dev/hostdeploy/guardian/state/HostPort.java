package dev.hostdeploy.guardian.state;

import dev.hostdeploy.schema.firewall.Proto;

/** A port on this host for one protocol: what a single-port opening opens and what a forward takes. */
public record HostPort(Proto proto, int port) {
}
