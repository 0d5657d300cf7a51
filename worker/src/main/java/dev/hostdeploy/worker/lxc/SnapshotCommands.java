package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.Container;
import dev.hostdeploy.schema.lxc.LxcSchema.NameRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.ScheduleRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Snapshot;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotDeleted;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotList;
import dev.hostdeploy.schema.lxc.LxcSchema.SnapshotRequest;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * lxc.snapshot.create|list|restore|delete and lxc.snapshot.schedule. Scheduled snapshots and their
 * expiry are LXD's own snapshots.schedule / snapshots.expiry: the Worker only sets them.
 */
final class SnapshotCommands {
    private final LxcService svc;

    SnapshotCommands(LxcService svc) {
        this.svc = svc;
    }

    void register(HandlerRegistry registry) {
        registry.register(LxcSchema.SNAPSHOT_CREATE, ctx -> create(ctx.data(SnapshotRequest.class)));
        registry.register(LxcSchema.SNAPSHOT_LIST, ctx -> list(ctx.data(NameRequest.class)));
        registry.register(LxcSchema.SNAPSHOT_RESTORE, ctx -> restore(ctx.data(SnapshotRequest.class)));
        registry.register(LxcSchema.SNAPSHOT_DELETE, ctx -> delete(ctx.data(SnapshotRequest.class)));
        registry.register(LxcSchema.SNAPSHOT_SCHEDULE, ctx -> schedule(ctx.data(ScheduleRequest.class)));
    }

    private static Snapshot reply(LxdInstance.Snapshot s) {
        return new Snapshot(s.name(), s.createdAt(), s.expiresAt());
    }

    Snapshot create(SnapshotRequest req) {
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            // No look-up first: LXD itself refuses a taken snapshot name (answered as conflict).
            return reply(svc.instances().snapshots(req.name()).create(req.snapshot()));
        });
    }

    SnapshotList list(NameRequest req) {
        svc.require(req.name());
        List<Snapshot> out = svc.instances().snapshots(req.name()).list().stream()
                .map(SnapshotCommands::reply)
                .sorted(Comparator.comparing(s -> s.createdAt() == null ? "" : s.createdAt()))
                .toList();
        return new SnapshotList(req.name(), out);
    }

    /** The container must be one of ours and have that snapshot; not_found otherwise. */
    private void requireSnapshot(SnapshotRequest req) {
        svc.require(req.name());
        if (svc.instances().snapshots(req.name()).find(req.snapshot()).isEmpty()) {
            throw ProtocolException.notFound("container '" + req.name() + "' has no snapshot named '"
                    + req.snapshot() + "'");
        }
    }

    Container restore(SnapshotRequest req) {
        return svc.locked(req.name(), () -> {
            requireSnapshot(req);
            svc.instances().restore(req.name(), req.snapshot());
            return svc.view(req.name());
        });
    }

    SnapshotDeleted delete(SnapshotRequest req) {
        return svc.locked(req.name(), () -> {
            requireSnapshot(req);
            svc.instances().snapshots(req.name()).delete(req.snapshot());
            return new SnapshotDeleted(req.name(), req.snapshot(), true);
        });
    }

    Container schedule(ScheduleRequest req) {
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
