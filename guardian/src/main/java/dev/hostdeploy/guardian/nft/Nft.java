package dev.hostdeploy.guardian.nft;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs nft with JSON in and out. The command prefix is configurable so tests (and the benchmark) can
 * run every call inside a network namespace: {@code ["ip","netns","exec",NS,"nft"]}. Arguments are
 * passed as a list, never through a shell.
 *
 * <p>Whole-table batches run as one {@code nft -j -f -} process each. Small element changes (one
 * {@code firewall.open}) go to a long-lived {@code nft -j -i} instead, because starting nft costs a few
 * milliseconds and the change itself a fraction of one: see {@link NftSession}.
 */
public final class Nft implements AutoCloseable {
    /** nft refused a batch (bad ruleset, limits, kernel error); the message is nft's own. */
    public static final class NftException extends Exception {
        NftException(String message) {
            super(message);
        }
    }

    private static final long TIMEOUT_SECONDS = 60;
    /** Drains nft's stderr while we feed stdin and read stdout, so a full pipe can never stall nft. */
    private static final ExecutorService DRAIN = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "nft-stderr");
        t.setDaemon(true);
        return t;
    });
    /** Larger batches go to a process of their own: interactive nft reads each command as one line. */
    static final int SESSION_MAX_BYTES = 64 * 1024;
    private final List<String> command;
    private final NftSession session;

    public Nft(List<String> command) {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("nft command is empty");
        }
        this.command = List.copyOf(command);
        this.session = new NftSession(this.command, TIMEOUT_SECONDS);
    }

    /** Runs one batch as a single nft transaction: all of it is applied or none of it. */
    public void apply(JsonNode batch) throws NftException, IOException {
        Result r = run(Json.MAPPER.writeValueAsBytes(batch), "-j", "-f", "-");
        if (r.exit != 0) {
            throw new NftException(clean(r.err));
        }
    }

    /**
     * Like {@link #apply}, through the long-lived nft process when the batch is small. An
     * {@link NftException} means nft refused the transaction (nothing of it applied); an IOException
     * means nft died or hung, and whether the transaction was applied is unknown.
     */
    public void applyQuick(JsonNode batch) throws NftException, IOException {
        byte[] json = Json.MAPPER.writeValueAsBytes(batch);
        if (json.length > SESSION_MAX_BYTES) {
            apply(batch);
            return;
        }
        String err = session.run(json);
        if (err != null) {
            throw new NftException(clean(err));
        }
    }

    /** Starts the long-lived nft process now rather than on the first change. */
    public void warmUp() throws IOException {
        session.warmUp();
    }

    /** The pid of the long-lived nft process, if one is running (tests). */
    public java.util.OptionalLong sessionPid() {
        return session.pid();
    }

    @Override
    public void close() {
        session.close();
    }

    /** The table's listing in nft's JSON, or empty when the table does not exist. */
    public Optional<JsonNode> listTable(String family, String table) throws NftException, IOException {
        Result r = run(null, "-j", "list", "table", family, table);
        if (r.exit != 0) {
            if (r.err.contains("No such file or directory")) {
                return Optional.empty();
            }
            throw new NftException(clean(r.err));
        }
        return Optional.of(Json.MAPPER.readTree(r.out));
    }

    private static String clean(String err) {
        String s = err.strip().replaceAll("\\s*\\n\\s*", " | ");
        return s.length() > 500 ? s.substring(0, 500) + "..." : s;
    }

    private record Result(int exit, String out, String err) {
    }

    private Result run(byte[] stdin, String... args) throws IOException, NftException {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        Future<byte[]> err = DRAIN.submit(() -> drain(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin); // nft reads its whole input before it writes anything
            }
        }
        byte[] out = drain(p.getInputStream());
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NftException("nft did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                    new String(err.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("could not read nft's output", e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running nft", e);
        }
    }

    private static byte[] drain(InputStream s) {
        try (s) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            s.transferTo(b);
            return b.toByteArray();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
