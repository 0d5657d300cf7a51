package dev.hostdeploy.worker.lxc;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hostdeploy.protocol.CommandContext;
import dev.hostdeploy.protocol.CommandHandler;
import dev.hostdeploy.protocol.ProtocolException;
import dev.hostdeploy.worker.lxc.LxcRequests.CreateRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.ForceRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.ListRequest;
import dev.hostdeploy.worker.lxc.LxcRequests.NameRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;
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

    void register(BiConsumer<String, CommandHandler> r) {
        r.accept("lxc.create", this::create);
        r.accept("lxc.start", ctx -> power(ctx.data(NameRequest.class).name(), "start", false));
        r.accept("lxc.stop", ctx -> {
            ForceRequest req = ctx.data(ForceRequest.class);
            return power(req.name(), "stop", req.force());
        });
        r.accept("lxc.restart", ctx -> power(ctx.data(NameRequest.class).name(), "restart", false));
        r.accept("lxc.delete", this::delete);
        r.accept("lxc.get", ctx -> {
            String name = ctx.data(NameRequest.class).name();
            return svc.view(svc.require(name));
        });
        r.accept("lxc.list", this::list);
    }

    /** The container's view, flat, plus why SSH is unavailable when it is. */
    record Created(@JsonUnwrapped LxcService.View container, String sshReason) {
    }

    Object create(CommandContext ctx) {
        CreateRequest req = ctx.data(CreateRequest.class);
        if (!svc.options.allowedImages().contains(req.image())) {
            throw ProtocolException.invalid("image", "'" + req.image() + "' is not an allowed image (allowed: "
                    + String.join(", ", svc.options.allowedImages()) + ")");
        }
        List<SshKeys.Key> keys = SshKeys.parseAll(req.sshKeys(), "sshKeys");
        return svc.locked(req.name(), () -> {
            if (svc.find(req.name()) != null) {
                throw ProtocolException.conflict("a container named '" + req.name() + "' already exists");
            }
            Map<String, String> config = new LinkedHashMap<>();
            config.put(LxcService.OWNER_KEY, req.owner());
            config.put(LxcService.IMAGE_KEY, req.image());
            // What SSH is until the setup below finds sshd running (also if the Worker dies midway).
            config.put(LxcService.SSH_KEY, SshSetup.UNAVAILABLE);
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
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", req.name());
            body.put("type", "container");
            body.put("source", Map.of("type", "image", "alias", req.image()));
            body.put("config", config);
            body.put("devices", devices);
            ctx.progress(Map.of("step", "creating"));
            svc.lxd.run("POST", "/1.0/instances", body, LxcService.OP_TIMEOUT);
            try {
                ctx.progress(Map.of("step", "starting"));
                svc.changeState(req.name(), "start", false);
                ctx.progress(Map.of("step", "ssh"));
                // The reply's view is read while sshd is set up: LXD gathers the state by entering the
                // container, which costs about as much as a quick setup. A setup that took longer gets
                // a fresh view, so addresses that came up meanwhile show.
                long setupStart = System.nanoTime();
                CompletableFuture<LxcService.View> early = CompletableFuture.supplyAsync(
                        () -> svc.view(req.name()), svc.background);
                SshSetup.Result r;
                try {
                    r = ssh.setUp(req.name(), keys);
                } finally {
                    early.exceptionally(x -> null).join(); // nothing left running under a cleanup
                }
                boolean fresh = System.nanoTime() - setupStart < FRESH_VIEW.toNanos();
                // The config already says "unavailable": record only a change, beside the reply's GET.
                CompletableFuture<Void> recorded = r.state().equals(SshSetup.UNAVAILABLE)
                        ? CompletableFuture.completedFuture(null)
                        : CompletableFuture.runAsync(() -> svc.patchConfig(req.name(), Map.of(LxcService.SSH_KEY, r.state())),
                                svc.background);
                LxcService.View view;
                try {
                    view = (fresh && !early.isCompletedExceptionally() ? early.join() : svc.view(req.name()))
                            .withSsh(r.state());
                } finally {
                    recorded.exceptionally(x -> null).join();
                }
                join(recorded);
                LOG.info("created container {} for {} from {} (ssh {})", req.name(), req.owner(), req.image(), r.state());
                return new Created(view, r.reason());
            } catch (RuntimeException e) {
                // Leave nothing half-made behind: the member can simply retry.
                try {
                    svc.lxd.run("DELETE", LxcService.path(req.name()), null, LxcService.OP_TIMEOUT);
                } catch (RuntimeException cleanup) {
                    try {
                        svc.changeState(req.name(), "stop", true);
                        svc.lxd.run("DELETE", LxcService.path(req.name()), null, LxcService.OP_TIMEOUT);
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

    Object power(String name, String action, boolean force) {
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

    Object delete(CommandContext ctx) {
        ForceRequest req = ctx.data(ForceRequest.class);
        return svc.locked(req.name(), () -> {
            LxdInstance i = svc.require(req.name());
            if (i.running()) {
                if (!req.force()) {
                    throw ProtocolException.conflict("container '" + req.name()
                            + "' is running; stop it first or pass force");
                }
                svc.changeState(req.name(), "stop", true);
            }
            svc.lxd.run("DELETE", LxcService.path(req.name()), null, LxcService.OP_TIMEOUT);
            LOG.info("deleted container {}", req.name());
            return Map.of("name", req.name(), "deleted", true);
        });
    }

    Object list(CommandContext ctx) {
        ListRequest req = ctx.data(ListRequest.class);
        JsonNode all = svc.lxd.get("/1.0/instances?recursion=2");
        List<LxcService.View> out = new ArrayList<>();
        for (JsonNode n : all) {
            LxdInstance i = LxdInstance.of(n);
            if (i.owner() == null || (req.owner() != null && !req.owner().equals(i.owner()))) {
                continue;
            }
            out.add(LxcService.view(i, i.state()));
        }
        out.sort(Comparator.comparing(LxcService.View::name));
        return Map.of("containers", out);
    }
}
