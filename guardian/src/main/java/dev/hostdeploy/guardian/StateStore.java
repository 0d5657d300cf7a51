package dev.hostdeploy.guardian;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the desired state in {@code STATE_DIR/firewall.json}. Every save writes a temp file, fsyncs it,
 * renames it over the old file and fsyncs the directory, so a crash leaves either the old or the new
 * state, never a torn file.
 */
final class StateStore {
    static final String FILE = "firewall.json";

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Content(int version, List<RuleData> rules, List<ForwardData> forwards) {
    }

    private final Path dir;

    StateStore(Path dir) {
        this.dir = dir;
    }

    Path file() {
        return dir.resolve(FILE);
    }

    FirewallState load() throws IOException {
        Path f = file();
        if (!Files.exists(f)) {
            return FirewallState.EMPTY;
        }
        Content c = Json.MAPPER.readValue(f.toFile(), Content.class);
        List<Rule> rules = new ArrayList<>();
        List<Forward> forwards = new ArrayList<>();
        try {
            List<RuleData> rs = c.rules() == null ? List.of() : c.rules();
            for (int i = 0; i < rs.size(); i++) {
                rules.add(rs.get(i).toRule("rules[" + i + "]."));
            }
            List<ForwardData> fs = c.forwards() == null ? List.of() : c.forwards();
            for (int i = 0; i < fs.size(); i++) {
                forwards.add(fs.get(i).toForward("forwards[" + i + "]."));
            }
        } catch (ProtocolException e) {
            // A hand-edited state file is validated exactly like a request: refuse to start on bad values.
            throw new IOException(f + ": " + e.getMessage(), e);
        }
        return new FirewallState(rules, forwards);
    }

    void save(FirewallState state) throws IOException {
        Files.createDirectories(dir);
        Content c = new Content(1, state.rules().stream().map(RuleData::of).toList(),
                state.forwards().stream().map(ForwardData::of).toList());
        byte[] bytes = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
        Path tmp = dir.resolve(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true); // makes the rename itself durable
        }
    }
}
