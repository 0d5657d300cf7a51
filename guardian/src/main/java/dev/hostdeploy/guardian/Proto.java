package dev.hostdeploy.guardian;

import dev.hostdeploy.protocol.ProtocolException;

/** Transport protocols a rule or forward may name. */
enum Proto {
    TCP, UDP;

    String wire() {
        return this == TCP ? "tcp" : "udp";
    }

    static Proto parse(String field, String value) {
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
