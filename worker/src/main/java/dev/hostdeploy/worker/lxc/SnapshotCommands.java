package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.worker.lxc.LxcRequests.NameRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.ScheduleRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.SnapshotRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * lxc.snapshot.create|list|restore|delete and lxc.snapshot.schedule. Scheduled snapshots and their
 * expiry are LXD's own snapshots.schedule / snapshots.expiry: the Worker only sets them.
 */
final class SnapshotCommands {
    private final LxcService svc;

    SnapshotCommands(LxcService svc) {
        this.svc = svc;
    }

    void register(BiConsumer<String, CommandHandler> r) {
        r.accept("lxc.snapshot.create", this::create);
        r.accept("lxc.snapshot.list", this::list);
        r.accept("lxc.snapshot.restore", this::restore);
        r.accept("lxc.snapshot.delete", this::delete);
        r.accept("lxc.snapshot.schedule", this::schedule);
    }

    record Snapshot(String name, String createdAt, String expiresAt) {
        static Snapshot of(JsonNode n) {
            String name = n.path("name").asText();
            int slash = name.lastIndexOf('/');
            String expires = n.path("expires_at").asText(null);
            // LXD reports "never expires" as the zero time.
            if (expires != null && expires.startsWith("0001-01-01")) {
                expires = null;
            }
            return new Snapshot(slash >= 0 ? name.substring(slash + 1) : name, n.path("created_at").asText(null), expires);
        }
    }

    private static String snapPath(String name, String snapshot) {
        return LxcService.path(name) + "/snapshots/" + LxdClient.enc(snapshot);
    }

    Object create(CommandContext ctx) {
        SnapshotRequest req = ctx.data(SnapshotRequest.class);
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", req.snapshot());
            body.put("stateful", false);
            // No look-up first: LXD itself refuses a taken snapshot name (answered as conflict).
            JsonNode op = svc.lxd.run("POST", LxcService.path(req.name()) + "/snapshots", body, LxcService.OP_TIMEOUT);
            return new Snapshot(req.snapshot(), op.path("created_at").asText(null), null);
        });
    }

    private JsonNode find(String name, String snapshot) {
        try {
            return svc.lxd.get(snapPath(name, snapshot));
        } catch (ProtocolException e) {
            if (e.code() == dev.hostdeploy.protocol.ErrorCode.NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    Object list(CommandContext ctx) {
        NameRequest req = ctx.data(NameRequest.class);
        svc.require(req.name());
        List<Snapshot> out = new ArrayList<>();
        for (JsonNode n : svc.lxd.get(LxcService.path(req.name()) + "/snapshots?recursion=1")) {
            out.add(Snapshot.of(n));
        }
        out.sort(Comparator.comparing(s -> s.createdAt() == null ? "" : s.createdAt()));
        return Map.of("name", req.name(), "snapshots", out);
    }

    /** The container must be one of ours and have that snapshot; not_found otherwise. */
    private void requireSnapshot(SnapshotRequest req) {
        svc.require(req.name());
        if (find(req.name(), req.snapshot()) == null) {
            throw ProtocolException.notFound("container '" + req.name() + "' has no snapshot named '"
                    + req.snapshot() + "'");
        }
    }

    Object restore(CommandContext ctx) {
        SnapshotRequest req = ctx.data(SnapshotRequest.class);
        return svc.locked(req.name(), () -> {
            requireSnapshot(req);
            // LXD stops a running container for the restore and starts it again afterwards.
            svc.lxd.run("PUT", LxcService.path(req.name()), Map.of("restore", req.snapshot()), LxcService.OP_TIMEOUT);
            return svc.view(req.name());
        });
    }

    Object delete(CommandContext ctx) {
        SnapshotRequest req = ctx.data(SnapshotRequest.class);
        return svc.locked(req.name(), () -> {
            requireSnapshot(req);
            svc.lxd.run("DELETE", snapPath(req.name(), req.snapshot()), null, LxcService.OP_TIMEOUT);
            return Map.of("name", req.name(), "snapshot", req.snapshot(), "deleted", true);
        });
    }

    Object schedule(CommandContext ctx) {
        ScheduleRequest req = ctx.data(ScheduleRequest.class);
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            Map<String, String> config = new LinkedHashMap<>();
            config.put("snapshots.schedule", req.schedule());
            config.put("snapshots.expiry", req.expiry());
            // Members' scheduled snapshots get a recognizable name; LXD fills in the number.
            config.put("snapshots.pattern", "auto%d");
            svc.patchConfig(req.name(), config);
            return svc.view(req.name());
        });
    }
}
