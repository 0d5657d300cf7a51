package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.schema.lxc.LxcSchema;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lxc.* commands of the Worker: members' system containers through the LXD (or Incus) REST API.
 * LXD is only contacted when a command runs, so a Worker without LXD still starts and answers those
 * commands with {@code unavailable}.
 */
public final class LxcModule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LxcModule.class);

    private final LxdClient lxd;
    private final LxcService service;
    private final BackupStore backups;
    private final LxcOptions options;

    private LxcModule(LxdClient lxd, LxcOptions options) {
        this.lxd = lxd;
        this.options = options;
        this.service = new LxcService(lxd, options);
        this.backups = new BackupStore(options.backupRoot(), options.backupKeep());
    }

    public static LxcModule create(LxcOptions options) {
        for (String alias : options.allowedImages()) {
            if (!LxcRules.IMAGE.matcher(alias).matches()) {
                throw new IllegalArgumentException("--allowed-image: not a valid image alias: " + alias);
            }
        }
        if (options.backupKeep() < 1) {
            throw new IllegalArgumentException("--backup-keep must be at least 1");
        }
        LxdClient client = new LxdClient(LxdClient.findSocket(options.lxdSocket()));
        LOG.info("LXD socket {}, allowed images {}, backups in {} (keep {})", client.socket(),
                options.allowedImages(), options.backupRoot(), options.backupKeep());
        LxcModule module = new LxcModule(client, options);
        try {
            // Backups written before they were owner-only must not stay readable by every local user.
            module.backups.tighten();
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not make the backups in {} owner-only (each is made so on its container's next backup): {}",
                    options.backupRoot(), e.toString());
        }
        return module;
    }

    /** What the Worker's {@code info} reports, so the Manager places containers only where their image is allowed. */
    public LxcSchema.WorkerInfo info() {
        return new LxcSchema.WorkerInfo(options.allowedImages());
    }

    /**
     * Every container this Worker manages by name, status and owner: one LXD request without the
     * instances' state, which {@code lxc.list} also asks for (addresses).
     */
    public List<HostSchema.Item> containerItems() {
        return service.instances().list(false).stream().filter(LxdInstance::managed)
                .map(i -> new HostSchema.Item(i.name(), i.status(), LxcService.owner(i.owner())))
                .sorted(java.util.Comparator.comparing(HostSchema.Item::name)).toList();
    }

    public void register(HandlerRegistry registry) {
        SshSetup ssh = new SshSetup(lxd);
        new InstanceCommands(service, ssh).register(registry);
        new AccessCommands(service, ssh).register(registry);
        new SnapshotCommands(service).register(registry);
        new BackupCommands(service, backups).register(registry);
    }

    @Override
    public void close() {
        service.background.shutdownNow();
        lxd.close();
    }
}
