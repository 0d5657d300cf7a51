package dev.hostdeploy.protocol;

/**
 * Serves one command. The returned object (a record, a Map or a JsonNode; null for an empty object)
 * becomes the {@code result} data. Throw {@link ProtocolException} for an {@code error} reply; any
 * other exception is answered {@code internal} without its details.
 */
@FunctionalInterface
public interface CommandHandler {
    Object handle(CommandContext ctx) throws Exception;
}
