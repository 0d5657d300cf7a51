package dev.hostdeploy.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The named peers a component accepts, kept in {@code DIR/trusted.json}. A running agent re-reads the
 * file when it changes, so {@code trust} takes effect without a restart.
 */
public final class TrustList implements TrustPolicy {
    public static final String FILE = "trusted.json";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Peer(String name, String fingerprint) {
        public Peer {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(
                        "bad peer name '" + name + "': 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
            }
            fingerprint = Fingerprints.normalize(fingerprint);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record FileContent(List<Peer> peers) {
        FileContent {
            peers = peers == null ? List.of() : List.copyOf(peers);
        }
    }

    private final Path file;
    private volatile List<Peer> peers = List.of();
    private volatile FileTime loadedAt;

    private TrustList(Path file) {
        this.file = file;
    }

    public static TrustList load(Path dir) throws IOException {
        TrustList list = new TrustList(dir.resolve(FILE));
        list.reload();
        return list;
    }

    private synchronized void reload() throws IOException {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (modified.equals(loadedAt)) {
                return;
            }
            peers = Json.MAPPER.readValue(file.toFile(), FileContent.class).peers();
            loadedAt = modified;
        } catch (NoSuchFileException e) {
            peers = List.of();
            loadedAt = null;
        }
    }

    public List<Peer> peers() {
        try {
            reload();
        } catch (IOException e) {
            // Keep the last good list: a half-edited file must not open or close the door by accident.
        }
        return peers;
    }

    @Override
    public boolean trusts(String fingerprint) {
        return peers().stream().anyMatch(p -> p.fingerprint().equals(fingerprint));
    }

    /** Adds or replaces the peer of that name. */
    public synchronized void trust(String name, String fingerprint) throws IOException {
        Peer peer = new Peer(name, fingerprint);
        List<Peer> next = new ArrayList<>(peers());
        next.removeIf(p -> p.name().equals(peer.name()));
        next.add(peer);
        next.sort(Comparator.comparing(Peer::name));
        write(next);
    }

    /** Removes the named peer; returns whether it was there. */
    public synchronized boolean untrust(String name) throws IOException {
        List<Peer> next = new ArrayList<>(peers());
        boolean removed = next.removeIf(p -> p.name().equals(name));
        if (removed) {
            write(next);
        }
        return removed;
    }

    private void write(List<Peer> next) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(FILE + ".tmp");
        Files.write(tmp, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(new FileContent(next)));
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        peers = List.copyOf(next);
        loadedAt = Files.getLastModifiedTime(file);
    }
}
