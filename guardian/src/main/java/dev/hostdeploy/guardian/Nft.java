package dev.hostdeploy.guardian;

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
 */
final class Nft {
    /** nft refused a batch (bad ruleset, limits, kernel error); the message is nft's own. */
    static final class NftException extends Exception {
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
    private final List<String> command;

    Nft(List<String> command) {
        if (command == null || command.isEmpty()) {
            throw new IllegalArgumentException("nft command is empty");
        }
        this.command = List.copyOf(command);
    }

    /** Runs one batch as a single nft transaction: all of it is applied or none of it. */
    void apply(JsonNode batch) throws NftException, IOException {
        Result r = run(Json.MAPPER.writeValueAsBytes(batch), "-j", "-f", "-");
        if (r.exit != 0) {
            throw new NftException(clean(r.err));
        }
    }

    /** The table's listing in nft's JSON, or empty when the table does not exist. */
    Optional<JsonNode> listTable(String family, String table) throws NftException, IOException {
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
