package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.Backup;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupCreated;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupDeleted;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupList;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupRef;
import dev.hostdeploy.schema.lxc.LxcSchema.BackupRestoreRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Container;
import dev.hostdeploy.schema.lxc.LxcSchema.NameRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Progress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    void register(HandlerRegistry registry) {
        registry.register(LxcSchema.BACKUP_CREATE, ctx -> create(ctx, ctx.data(NameRequest.class)));
        registry.register(LxcSchema.BACKUP_LIST, ctx -> list(ctx.data(NameRequest.class)));
        registry.register(LxcSchema.BACKUP_RESTORE, ctx -> restore(ctx, ctx.data(BackupRestoreRequest.class)));
        registry.register(LxcSchema.BACKUP_DELETE, ctx -> delete(ctx.data(BackupRef.class)));
    }

    BackupList list(NameRequest req) {
        return new BackupList(req.name(), store.list(req.name()));
    }

    BackupDeleted delete(BackupRef req) {
        if (!svc.locked(req.name(), () -> store.delete(req.name(), req.backup()))) {
            throw ProtocolException.notFound("container '" + req.name() + "' has no backup '" + req.backup() + "'");
        }
        return new BackupDeleted(req.name(), req.backup(), true);
    }

    BackupCreated create(CommandContext ctx, NameRequest req) {
        return svc.locked(req.name(), () -> {
            svc.require(req.name());
            LxdClient.Backups lxdBackups = svc.instances().backups(req.name());
            String lxdName = "hostdeploy-" + HexFormat.of().formatHex(randomBytes());
            ctx.progress(new Progress("exporting"));
            // LXD cleans its copy up by itself should the Worker die before deleting it.
            lxdBackups.create(lxdName, Instant.now().plus(1, ChronoUnit.DAYS));
            Backup b;
            try {
                ctx.progress(new Progress("downloading"));
                b = store.write(req.name(), out -> lxdBackups.export(lxdName, out));
            } finally {
                try {
                    lxdBackups.delete(lxdName);
                } catch (RuntimeException e) {
                    LOG.warn("could not delete LXD's copy of backup {} of {}: {}", lxdName, req.name(), e.getMessage());
                }
            }
            List<String> pruned = store.prune(req.name());
            LOG.info("backup {} of {} ({} bytes), pruned {}", b.backup(), req.name(), b.size(), pruned);
            return new BackupCreated(b.name(), b.backup(), b.size(), b.sha256(), b.createdAt(),
                    store.file(req.name(), b.backup()).toString(), pruned);
        });
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return b;
    }

    Container restore(CommandContext ctx, BackupRestoreRequest req) {
        return svc.locked(req.asName(), () -> {
            // Checked before LXD sees anything: a corrupted tarball is refused outright.
            Path tarball = store.verified(req.name(), req.backup());
            Optional<LxdInstance> existing = svc.find(req.asName());
            if (existing.isPresent()) {
                if (!existing.get().managed()) {
                    throw ProtocolException.conflict("name '" + req.asName() + "' is taken by a container hostdeploy does not manage");
                }
                if (!req.asName().equals(req.name())) {
                    throw ProtocolException.conflict("a container named '" + req.asName() + "' already exists");
                }
                if (existing.get().running()) {
                    throw ProtocolException.conflict("container '" + req.asName()
                            + "' is running; stop it before restoring a backup over it");
                }
            }
            // Import under a temporary name first, so the current container survives a failed import.
            String target = existing.isEmpty() ? req.asName() : "hdr-" + HexFormat.of().formatHex(randomBytes());
            ctx.progress(new Progress("importing"));
            svc.instances().importBackup(target, tarball);
            // A backup carries its container's config, maybe from before these keys were pinned.
            try {
                svc.patchConfig(target, LxcService.CONFINEMENT);
            } catch (RuntimeException e) {
                try {
                    svc.instances().delete(target); // never leave it behind unconfined
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            if (existing.isPresent()) {
                svc.instances().delete(req.asName());
                svc.instances().rename(target, req.asName());
            }
            LxdInstance restored = svc.require(req.asName());
            if (!req.asName().equals(req.name()) && restored.devices().keySet().stream().anyMatch(
                    d -> d.equals(LxcService.SSH_DEVICE) || d.startsWith(LxcService.PORT_DEVICE_PREFIX))) {
                // A copy under a new name must not fight the original for its SSH port or exposed ports.
                Map<String, Map<String, String>> devices = new LinkedHashMap<>(restored.devices());
                devices.keySet().removeIf(d -> d.equals(LxcService.SSH_DEVICE) || d.startsWith(LxcService.PORT_DEVICE_PREFIX));
                svc.instances().replaceDevices(req.asName(), devices);
            }
            LOG.info("restored backup {} of {} as {}", req.backup(), req.name(), req.asName());
            return svc.view(req.asName());
        });
    }
}
