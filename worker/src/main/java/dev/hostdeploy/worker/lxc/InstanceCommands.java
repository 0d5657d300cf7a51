package dev.hostdeploy.worker.lxc;

import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.HandlerRegistry;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.Container;
import dev.hostdeploy.schema.lxc.LxcSchema.ContainerList;
import dev.hostdeploy.schema.lxc.LxcSchema.CreateRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Created;
import dev.hostdeploy.schema.lxc.LxcSchema.Deleted;
import dev.hostdeploy.schema.lxc.LxcSchema.ForceRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.ListRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.NameRequest;
import dev.hostdeploy.schema.lxc.LxcSchema.Progress;
import dev.hostdeploy.schema.lxc.SshKeys;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** lxc.create, lxc.start, lxc.stop, lxc.restart, lxc.delete, lxc.get, lxc.list. */
final class InstanceCommands {
    private static final Logger LOG = LoggerFactory.getLogger(InstanceCommands.class);

    /** How old the view read during the SSH setup may be to serve as create's reply. */
    private static final Duration FRESH_VIEW = Duration.ofSeconds(1);

    private final LxcService svc;
    private final SshSetup ssh;

    InstanceCommands(LxcService svc, SshSetup ssh) {
        this.svc = svc;
        this.ssh = ssh;
    }

    void register(HandlerRegistry registry) {
        registry.register(LxcSchema.CREATE, ctx -> create(ctx, ctx.data(CreateRequest.class)));
        registry.register(LxcSchema.START, ctx -> power(ctx.data(NameRequest.class).name(), "start", false));
        registry.register(LxcSchema.STOP, ctx -> {
            ForceRequest req = ctx.data(ForceRequest.class);
            return power(req.name(), "stop", req.force());
        });
        registry.register(LxcSchema.RESTART, ctx -> power(ctx.data(NameRequest.class).name(), "restart", false));
        registry.register(LxcSchema.DELETE, ctx -> delete(ctx.data(ForceRequest.class)));
        registry.register(LxcSchema.GET, ctx -> svc.view(svc.require(ctx.data(NameRequest.class).name())));
        registry.register(LxcSchema.LIST, ctx -> list(ctx.data(ListRequest.class)));
    }

    Created create(CommandContext ctx, CreateRequest req) {
        if (!svc.options.allowedImages().contains(req.image())) {
            throw ProtocolException.invalid("image", "'" + req.image() + "' is not an allowed image (allowed: "
                    + String.join(", ", svc.options.allowedImages()) + ")");
        }
        List<SshKeys.Key> keys = req.keys();
        return svc.locked(req.name(), () -> {
            if (svc.find(req.name()).isPresent()) {
                throw ProtocolException.conflict("a container named '" + req.name() + "' already exists");
            }
            Map<String, String> config = new LinkedHashMap<>();
            config.put(LxcService.OWNER_KEY, req.owner().toString());
            config.put(LxcService.IMAGE_KEY, req.image());
            // What SSH is until the setup below finds sshd running (also if the Worker dies midway).
            config.put(LxcService.SSH_KEY, LxcSchema.SSH_UNAVAILABLE);
            config.putAll(LxcService.CONFINEMENT);
            if (req.limits().cpu() != null) {
                config.put("limits.cpu", req.limits().cpu().toString());
            }
            if (req.limits().memory() != null) {
                config.put("limits.memory", req.limits().memory());
            }
            Map<String, Object> devices = new LinkedHashMap<>();
            if (req.limits().disk() != null) {
                devices.put("root", rootDisk(svc.defaultPool(), req.limits().disk()));
            }
            // The port is checked before anything is made, so a taken one costs nothing.
            Map<String, String> sshDevice = req.sshPort() == null ? null
                    : AccessCommands.sshDevice(svc, req.name(), req.sshAddress(), req.sshPort());
            ctx.progress(new Progress("creating"));
            svc.instances().create(req.name(), req.image(), config, devices);
            try {
                ctx.progress(new Progress("starting"));
                svc.changeState(req.name(), "start", false);
                ctx.progress(new Progress("ssh"));
                // The proxy device is added while sshd is set up rather than with the container: LXD
                // starting its forkproxy takes about a second, which would otherwise delay the start.
                long setupStart = System.nanoTime();
                CompletableFuture<Void> exposed = sshDevice == null ? CompletableFuture.completedFuture(null)
                        : CompletableFuture.runAsync(() -> svc.instances().patch(req.name(), null,
                                Map.of(LxcService.SSH_DEVICE, sshDevice)), svc.background);
                // The reply's view is read while sshd is set up too: LXD gathers the state by entering
                // the container, which costs about as much as a quick setup. A setup that took longer
                // gets a fresh view, so addresses that came up meanwhile show.
                CompletableFuture<Container> early = exposed.thenApplyAsync(v -> svc.view(req.name()), svc.background);
                SshSetup.Result r;
                try {
                    r = ssh.setUp(req.name(), keys);
                } finally {
                    early.exceptionally(x -> null).join(); // nothing left running under a cleanup
                }
                join(exposed);
                boolean fresh = System.nanoTime() - setupStart < FRESH_VIEW.toNanos();
                // The config already says "unavailable": record only a change, beside the reply's GET.
                CompletableFuture<Void> recorded = r.state().equals(LxcSchema.SSH_UNAVAILABLE)
                        ? CompletableFuture.completedFuture(null)
                        : CompletableFuture.runAsync(() -> svc.patchConfig(req.name(), Map.of(LxcService.SSH_KEY, r.state())),
                                svc.background);
                Container view;
                try {
                    view = (fresh && !early.isCompletedExceptionally() ? early.join() : svc.view(req.name()))
                            .withSsh(r.state());
                } finally {
                    recorded.exceptionally(x -> null).join();
                }
                join(recorded);
                LOG.info("created container {} for {} from {} (ssh {})", req.name(), req.owner(), req.image(), r.state());
                return Created.of(view, r.reason());
            } catch (RuntimeException e) {
                // Leave nothing half-made behind: the member can simply retry.
                try {
                    svc.instances().delete(req.name());
                } catch (RuntimeException cleanup) {
                    try {
                        svc.changeState(req.name(), "stop", true);
                        svc.instances().delete(req.name());
                    } catch (RuntimeException ignored) {
                        e.addSuppressed(ignored);
                    }
                }
                throw e;
            }
        });
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    static Map<String, String> rootDisk(String pool, String size) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("type", "disk");
        d.put("path", "/");
        d.put("pool", pool);
        d.put("size", size);
        return d;
    }

    Container power(String name, String action, boolean force) {
        return svc.locked(name, () -> {
            LxdInstance i = svc.require(name);
            // Starting a running container or stopping a stopped one is already done: answer the state.
            boolean skip = switch (action) {
                case "start" -> i.running();
                case "stop" -> !i.running();
                default -> false;
            };
            if (!skip) {
                svc.changeState(name, action.equals("restart") && !i.running() ? "start" : action, force);
            }
            return svc.view(name);
        });
    }

    Deleted delete(ForceRequest req) {
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            if (i.running()) {
                if (!req.force()) {
                    throw ProtocolException.conflict("container '" + req.name()
                            + "' is running; stop it first or pass force");
                }
                svc.changeState(req.name(), "stop", true);
            }
            svc.instances().delete(req.name());
            LOG.info("deleted container {}", req.name());
            return new Deleted(req.name(), true);
        });
    }

    ContainerList list(ListRequest req) {
        String owner = req.owner() == null ? null : req.owner().toString();
        List<Container> out = svc.instances().list(true).stream()
                .filter(i -> i.managed() && (owner == null || owner.equals(i.owner())))
                .map(i -> LxcService.view(i, i.state()))
                .sorted(Comparator.comparing(Container::name))
                .toList();
        return new ContainerList(out);
    }
}
