package dev.hostdeploy.schema.firewall;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;

/**
 * Reads a port only from a JSON whole number. Jackson would otherwise accept {@code "80"} and round
 * {@code 80.5} down to 80; a port that is not what the caller wrote must be refused, naming the field.
 */
public final class PortNumber extends StdDeserializer<Integer> {
    public PortNumber() {
        super(Integer.class);
    }

    @Override
    public Integer deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
            return p.getIntValue();
        }
        return (Integer) ctxt.handleUnexpectedToken(Integer.class, p.currentToken(), p,
                "a port must be a whole number from 1 to 65535");
    }
}
