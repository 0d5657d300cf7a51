package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.worker.lxc.LxcRequests.BackupRef;
import dev.hostdeploy.worker.lxc.LxcRequests.BackupRestoreRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.NameRequest;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * lxc.backup.create|list|restore|delete. A backup is LXD's own export (instance only, gzip) streamed
 * to the host's backup root; listing and restoring work even after the container was deleted.
 */
final class BackupCommands {
    private static final Logger LOG = LoggerFactory.getLogger(BackupCommands.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final LxcService svc;
    private final BackupStore store;

    BackupCommands(LxcService svc, BackupStore store) {
        this.svc = svc;
        this.store = store;
    }

    void register(BiConsumer<String, CommandHandler> r) {
        r.accept("lxc.backup.create", this::create);
        r.accept("lxc.backup.list", ctx -> {
            String name = ctx.data(NameRequest.class).name();
            return Map.of("name", name, "backups", store.list(name));
        });
        r.accept("lxc.backup.restore", this::restore);
        r.accept("lxc.backup.delete", ctx -> {
            BackupRef req = ctx.data(BackupRef.class);
            if (!svc.locked(req.name(), () -> store.delete(req.name(), req.backup()))) {
                throw ProtocolException.notFound("container '" + req.name() + "' has no backup '" + req.backup() + "'");
            }
            return Map.of("name", req.name(), "backup", req.backup(), "deleted", true);
        });
    }

    record Created(String name, String backup, long size, String sha256, String createdAt, String path,
                   List<String> pruned) {
    }

    Object create(CommandContext ctx) {
        NameRequest req = ctx.data(NameRequest.class);
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            String lxdName = "hostdeploy-" + HexFormat.of().formatHex(randomBytes());
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", lxdName);
            // LXD cleans its copy up by itself should the Worker die before deleting it.
            body.put("expires_at", Instant.now().plus(1, ChronoUnit.DAYS).toString());
            body.put("instance_only", true);
            body.put("optimized_storage", false);
            body.put("compression_algorithm", "gzip");
            String lxdPath = LxcService.path(req.name()) + "/backups/" + LxdClient.enc(lxdName);
            ctx.progress(Map.of("step", "exporting"));
            svc.lxd.run("POST", LxcService.path(req.name()) + "/backups", body, LxcService.OP_TIMEOUT);
            BackupStore.Backup b;
            try {
                ctx.progress(Map.of("step", "downloading"));
                b = store.write(req.name(), out -> svc.lxd.download(lxdPath + "/export", out));
            } finally {
                try {
                    svc.lxd.run("DELETE", lxdPath, null, LxcService.OP_TIMEOUT);
                } catch (RuntimeException e) {
                    LOG.warn("could not delete LXD's copy of backup {} of {}: {}", lxdName, req.name(), e.getMessage());
                }
            }
            List<String> pruned = store.prune(req.name());
            LOG.info("backup {} of {} ({} bytes), pruned {}", b.backup(), req.name(), b.size(), pruned);
            return new Created(b.name(), b.backup(), b.size(), b.sha256(), b.createdAt(),
                    store.file(req.name(), b.backup()).toString(), pruned);
        });
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return b;
    }

    Object restore(CommandContext ctx) {
        BackupRestoreRequest req = ctx.data(BackupRestoreRequest.class);
        return svc.locked(req.asName(), () -> {
            // Checked before LXD sees anything: a corrupted tarball is refused outright.
            Path tarball = store.verified(req.name(), req.backup());
            LxdInstance existing = svc.find(req.asName());
            if (existing != null) {
                if (existing.owner() == null) {
                    throw ProtocolException.conflict("name '" + req.asName() + "' is taken by a container hostdeploy does not manage");
                }
                if (!req.asName().equals(req.name())) {
                    throw ProtocolException.conflict("a container named '" + req.asName() + "' already exists");
                }
                if (existing.running()) {
                    throw ProtocolException.conflict("container '" + req.asName()
                            + "' is running; stop it before restoring a backup over it");
                }
            }
            // Import under a temporary name first, so the current container survives a failed import.
            String target = existing == null ? req.asName()
                    : "hdr-" + HexFormat.of().formatHex(randomBytes());
            ctx.progress(Map.of("step", "importing"));
            svc.lxd.upload("/1.0/instances", Map.of("X-LXD-name", target), tarball, LxcService.OP_TIMEOUT);
            if (existing != null) {
                svc.lxd.run("DELETE", LxcService.path(req.asName()), null, LxcService.OP_TIMEOUT);
                svc.lxd.run("POST", LxcService.path(target), Map.of("name", req.asName()), LxcService.OP_TIMEOUT);
            }
            LxdInstance restored = svc.require(req.asName());
            if (!req.asName().equals(req.name()) && restored.devices().containsKey(LxcService.SSH_DEVICE)) {
                // A copy under a new name must not fight the original for its SSH port.
                Map<String, Map<String, String>> devices = new LinkedHashMap<>(restored.devices());
                devices.remove(LxcService.SSH_DEVICE);
                svc.putDevices(restored, devices);
            }
            LOG.info("restored backup {} of {} as {}", req.backup(), req.name(), req.asName());
            return svc.view(req.asName());
        });
    }
}
