package dev.hostdeploy.guardian.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.ingress.IngressSchema.Route;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Keeps the desired state in {@code STATE_DIR}: a snapshot {@code firewall.json} plus an append-only
 * journal {@code firewall.journal} of the changes made since. A single change appends one line and
 * fsyncs it, so its cost does not grow with the number of open ports. Whole-state writes (an apply,
 * and compaction once the journal outgrows the snapshot) write a temp file, fsync it, rename it over
 * the snapshot and fsync the directory, then empty the journal. Journal lines carry sequence numbers
 * and the snapshot the last one it includes, so a crash at any point leaves the old or the new state,
 * never a torn one: a torn last line was never acknowledged and is dropped on load.
 *
 * <p>The journal is grown ahead in zero-filled blocks and lines are written over the zeros: an fsync
 * of data that does not change the file's size skips a filesystem journal commit, which roughly
 * halves the cost of each change's fsync. The data ends at the first zero byte; the zero tail is cut
 * off on load and on close.
 *
 * <p>The ingress routes (Caddy's desired routes) live in the same snapshot and journal, so one fsync'd
 * file pair holds everything the Guardian owns on the host. Snapshots and journals written before
 * routes existed simply have none.
 */
public final class StateStore implements AutoCloseable {
    public static final String FILE = "firewall.json";
    public static final String JOURNAL = "firewall.journal";
    private static final long MIN_COMPACT_BYTES = 64 * 1024;
    /** How far ahead the journal is grown with zeros. */
    private static final int PREALLOCATE_BYTES = 64 * 1024;
    /** The kind given to owners written before owners were {@code kind/name}. */
    static final String LEGACY_OWNER_KIND = "manual";

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Content(int version, List<RuleData> rules, List<ForwardData> forwards, Long seq, List<Route> routes) {
    }

    /** One change, replayed as: remove these exact rules and forwards, then add (or update) these. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    record Entry(long seq, List<RuleData> addRules, List<RuleData> removeRules, List<ForwardData> addForwards,
            List<ForwardData> removeForwards, List<Route> setRoutes, List<String> removeRoutes) {
    }

    /** A change to the desired state in typed values; also tells Ruleset which sets to recompute. */
    public record Change(List<Rule> addRules, List<Rule> removeRules, List<Forward> addForwards, List<Forward> removeForwards) {
        public static Change addRule(Rule r) {
            return new Change(List.of(r), List.of(), List.of(), List.of());
        }

        public static Change removeRules(List<Rule> rs) {
            return new Change(List.of(), rs, List.of(), List.of());
        }

        public static Change addForward(Forward f) {
            return new Change(List.of(), List.of(), List.of(f), List.of());
        }

        public static Change removeForwards(List<Forward> fs) {
            return new Change(List.of(), List.of(), List.of(), fs);
        }

        public FirewallState applyTo(FirewallState s) {
            FirewallState next = s;
            if (!removeRules.isEmpty()) {
                java.util.Set<Rule> gone = new java.util.HashSet<>(removeRules);
                next = next.withoutRules(gone::contains);
            }
            if (!removeForwards.isEmpty()) {
                java.util.Set<Forward> gone = new java.util.HashSet<>(removeForwards);
                next = next.withoutForwards(gone::contains);
            }
            for (Rule r : addRules) {
                next = next.withRule(r);
            }
            for (Forward f : addForwards) {
                next = next.withForward(f);
            }
            return next;
        }
    }

    private final Path dir;
    private long seq;
    private long snapshotBytes;
    private FileChannel journal;
    /** Where the journal's data ends: the zeros grown ahead start here. */
    private long end;
    /** The desired ingress routes by hostname, in the order they were first set. */
    private final LinkedHashMap<String, Route> routes = new LinkedHashMap<>();

    public StateStore(Path dir) {
        this.dir = dir;
    }

    public Path file() {
        return dir.resolve(FILE);
    }

    private Path journalFile() {
        return dir.resolve(JOURNAL);
    }

    /** The snapshot with the journal replayed over it. */
    public synchronized FirewallState load() throws IOException {
        Path f = file();
        FirewallState state = FirewallState.EMPTY;
        seq = 0;
        snapshotBytes = 0;
        routes.clear();
        if (Files.exists(f)) {
            Content c;
            try {
                c = read(Files.readString(f), Content.class);
            } catch (IOException e) {
                // A hand-edited state file is validated exactly like a request: refuse to start on bad values.
                throw new IOException(f + ": " + e.getMessage(), e);
            }
            snapshotBytes = Files.size(f);
            seq = c.seq() == null ? 0 : c.seq();
            state = new FirewallState(rules(c.rules()), forwards(c.forwards()));
            if (c.routes() != null) {
                c.routes().forEach(r -> routes.put(r.host(), r));
            }
        }
        Path j = journalFile();
        if (!Files.exists(j)) {
            return state;
        }
        Desired replayed = new Desired(state); // replays each line in time independent of the state's size
        byte[] bytes = Files.readAllBytes(j);
        int pos = 0;
        int line = 0;
        while (pos < bytes.length) {
            int nl = pos;
            while (nl < bytes.length && bytes[nl] != '\n' && bytes[nl] != 0) {
                nl++;
            }
            line++;
            if (nl == bytes.length || bytes[nl] == 0) {
                // The zeros grown ahead, or a line whose write was cut short by a crash (it was never
                // acknowledged): the data ends here.
                truncateJournal(pos);
                break;
            }
            Entry e;
            try {
                e = read(new String(bytes, pos, nl - pos, StandardCharsets.UTF_8), Entry.class);
            } catch (IOException ex) {
                throw new IOException(j + " line " + line + " is not a journal entry: " + ex.getMessage(), ex);
            }
            if (e.seq() > seq) {
                replayed.apply(change(e));
                applyRoutes(e.setRoutes(), e.removeRoutes());
                seq = e.seq();
            }
            pos = nl + 1;
        }
        return replayed.snapshot();
    }

    private static List<Rule> rules(List<RuleData> rs) {
        return rs == null ? List.of() : rs.stream().map(Rule::of).toList();
    }

    private static List<Forward> forwards(List<ForwardData> fs) {
        return fs == null ? List.of() : fs.stream().map(Forward::of).toList();
    }

    /**
     * Reads a state file or journal line. Versions before owners became {@code kind/name} wrote plain
     * names such as {@code web}; those were set by hand or by tests, so they are read as
     * {@code manual/web} and the next snapshot writes them in the new form.
     */
    private static <T> T read(String json, Class<T> type) throws IOException {
        JsonNode tree = Json.MAPPER.readTree(json);
        for (JsonNode list : tree) {
            if (list.isArray()) {
                for (JsonNode item : list) {
                    JsonNode owner = item.get("owner");
                    if (item instanceof ObjectNode o && owner != null && owner.isTextual()
                            && owner.textValue().indexOf('/') < 0) {
                        o.put("owner", LEGACY_OWNER_KIND + "/" + owner.textValue());
                    }
                }
            }
        }
        try {
            return Json.MAPPER.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            // ProtocolException from a record's constructor: name the item, e.g. rules[3].port
            String at = e.getPath().stream()
                    .map(r -> r.getFieldName() != null ? "." + r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining()).replaceFirst("^\\.", "");
            String why = e.getCause() instanceof ProtocolException pe ? pe.getMessage() : e.getOriginalMessage();
            throw new IOException(at + ": " + why, e);
        }
    }

    private void applyRoutes(List<Route> set, List<String> remove) {
        if (remove != null) {
            remove.forEach(routes::remove);
        }
        if (set != null) {
            set.forEach(r -> routes.put(r.host(), r));
        }
    }

    /** The desired ingress routes as loaded and changed since, by hostname. */
    public synchronized Map<String, Route> routes() {
        return new LinkedHashMap<>(routes);
    }

    /**
     * Appends one change of routes (set these, then remove these hostnames) and fsyncs it. A change
     * Caddy then refuses is taken back by appending its inverse, never by truncating: the firewall may
     * have appended lines after it.
     */
    public synchronized void appendRoutes(List<Route> set, List<String> remove) throws IOException {
        appendEntry(new Entry(seq + 1, List.of(), List.of(), List.of(), List.of(), set, remove));
        applyRoutes(set, remove);
    }

    private static Change change(Entry e) {
        return new Change(rules(e.addRules()), rules(e.removeRules()), forwards(e.addForwards()),
                forwards(e.removeForwards()));
    }

    /**
     * Appends one change and fsyncs it. Returns a mark for {@link #rollback} in case nft then refuses
     * the change.
     */
    public synchronized long append(Change c) throws IOException {
        return appendEntry(new Entry(seq + 1, c.addRules().stream().map(Rule::data).toList(),
                c.removeRules().stream().map(Rule::data).toList(),
                c.addForwards().stream().map(Forward::data).toList(),
                c.removeForwards().stream().map(Forward::data).toList(), List.of(), List.of()));
    }

    private long appendEntry(Entry e) throws IOException {
        FileChannel ch = journal();
        long mark = end;
        byte[] json = Json.MAPPER.writeValueAsBytes(e); // one line: values are validated, no raw newlines
        ByteBuffer buf = ByteBuffer.allocate(json.length + 1).put(json).put((byte) '\n').flip();
        long size = ch.size();
        if (mark + buf.remaining() > size) {
            // Grows the file ahead with zeros; the fsync below makes the new size durable with the line.
            long to = mark + buf.remaining() + PREALLOCATE_BYTES;
            ByteBuffer zeros = ByteBuffer.allocate((int) (to - size));
            long at = size;
            while (zeros.hasRemaining()) {
                at += ch.write(zeros, at);
            }
        }
        long at = mark;
        while (buf.hasRemaining()) {
            at += ch.write(buf, at);
        }
        ch.force(false);
        end = at;
        seq++;
        return mark;
    }

    /** Takes back the last appended change (nft refused it). */
    public synchronized void rollback(long mark) throws IOException {
        truncateJournal(mark);
        seq--;
    }

    /** Writes the whole state as the new snapshot when the journal has grown larger than it. */
    public synchronized void compactIfNeeded(java.util.function.Supplier<FirewallState> state) throws IOException {
        if (journal != null && end > Math.max(MIN_COMPACT_BYTES, snapshotBytes)) {
            save(state.get());
        }
    }

    /** Writes the whole state as the snapshot and empties the journal. */
    public synchronized void save(FirewallState state) throws IOException {
        Files.createDirectories(dir);
        Content c = new Content(1, state.rules().stream().map(Rule::data).toList(),
                state.forwards().stream().map(Forward::data).toList(), seq,
                routes.isEmpty() ? null : new ArrayList<>(routes.values()));
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
        fsyncDir(); // makes the rename itself durable
        snapshotBytes = bytes.length;
        // Every journal line is now in the snapshot (seq <= its seq): emptying it is only tidying.
        if (journal != null || Files.exists(journalFile())) {
            truncateJournal(0);
        }
    }

    private void truncateJournal(long size) throws IOException {
        FileChannel ch = journal();
        ch.truncate(size);
        ch.force(false);
        end = size;
    }

    private FileChannel journal() throws IOException {
        if (journal == null) {
            Files.createDirectories(dir);
            boolean created = !Files.exists(journalFile());
            journal = FileChannel.open(journalFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            end = journal.size(); // load() cut off any zero tail
            if (created) {
                fsyncDir(); // the new file's directory entry must survive a crash too
            }
        }
        return journal;
    }

    private void fsyncDir() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (journal != null) {
            try {
                journal.truncate(end); // tidy: the zeros grown ahead are not needed while stopped
            } finally {
                journal.close();
                journal = null;
            }
        }
    }
}
