package dev.hostdeploy.schema.firewall;

import dev.hostdeploy.protocol.ProtocolException;

/** Transport protocols a rule or forward may name. */
public enum Proto {
    TCP, UDP;

    public String wire() {
        return this == TCP ? "tcp" : "udp";
    }

    public static Proto parse(String field, String value) {
        if (value == null) {
            throw ProtocolException.invalid(field, "is required (tcp or udp)");
        }
        return switch (value) {
            case "tcp" -> TCP;
            case "udp" -> UDP;
            default -> throw ProtocolException.invalid(field, "must be \"tcp\" or \"udp\"");
        };
    }
}
