package dev.hostdeploy.manager.deployments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hostdeploy.manager.agents.AgentErrors;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianListener;
import dev.hostdeploy.manager.deployments.Deployments.Deployment;
import dev.hostdeploy.manager.deployments.Deployments.OpenPort;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.protocol.Json;
import dev.hostdeploy.schema.Owner;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.firewall.FirewallSchema.Close;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardData;
import dev.hostdeploy.schema.firewall.FirewallSchema.ForwardRemove;
import dev.hostdeploy.schema.firewall.FirewallSchema.RuleData;
import dev.hostdeploy.schema.firewall.FirewallSchema.State;
import dev.hostdeploy.schema.firewall.Proto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On every (re)connect of a Guardian, compares its {@code firewall.list} with the full desired state of
 * the host and sends {@code firewall.apply} only when they differ. The desired state is: every opening
 * the Guardian lists that no deployment owns (an admin's, the Guardian's own, other owners'), the ports
 * the Manager's deployments have open (owner {@code deployment/NAME}), and the openings and forwards an
 * admin made through the passthrough (recorded in {@link ManualPorts}). So a Guardian that lost its state
 * gets everything back, a deployment's stale opening is dropped, and nothing an admin opened is wiped.
 */
public final class FirewallReconciler implements GuardianListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FirewallReconciler.class);

    private final ManualPorts manual;
    private final Deployments deployments;
    private final JobRunner jobs;
    private final AgentRegistry agents;
    /** Store reads and the comparison run here, never on the agents' I/O threads. */
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "firewall-reconcile");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong applies = new AtomicLong();
    private final List<PortSource> sources = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Another feature whose openings are part of the desired state (the members' containers: owner
     * {@code container/ID}). Its openings the Guardian lists are replaced by what it says, except an
     * owner it is busy with (a create in progress may have opened a port it has not recorded yet).
     */
    public interface PortSource {
        String ownerKind();

        List<RuleData> rules(String hostId);

        boolean busy(Owner owner);
    }

    public void addSource(PortSource source) {
        sources.add(source);
    }

    private PortSource sourceOf(Owner owner) {
        if (owner == null) {
            return null;
        }
        for (PortSource s : sources) {
            if (s.ownerKind().equals(owner.kind())) {
                return s;
            }
        }
        return null;
    }

    public FirewallReconciler(dev.hostdeploy.manager.store.Database db, Deployments deployments, JobRunner jobs,
                              AgentRegistry agents) {
        this.manual = new ManualPorts(db);
        this.deployments = deployments;
        this.jobs = jobs;
        this.agents = agents;
    }

    @Override
    public void connected(String hostId) {
        reconcile(hostId).exceptionally(e -> {
            LOG.warn("host {}: the firewall could not be reconciled on reconnect: {}", hostId,
                    AgentErrors.message(e));
            return false;
        });
    }

    /** Brings the host's Guardian to the desired state; true when an apply was needed. */
    public CompletableFuture<Boolean> reconcile(String hostId) {
        return CompletableFuture.supplyAsync(() -> agents.guardian(hostId), executor)
                .thenCompose(g -> g.list().thenApplyAsync(current -> {
                    State want = desired(hostId, current);
                    return same(current, want) ? null : want;
                }, executor).thenCompose(want -> {
                    if (want == null) {
                        return CompletableFuture.completedFuture(false);
                    }
                    LOG.info("host {}: the guardian's firewall differs from the desired state; applying {} rules, {} forwards",
                            hostId, want.rules().size(), want.forwards().size());
                    applies.incrementAndGet();
                    return g.apply(want).thenApply(a -> true);
                }));
    }

    /** How many reconciles had to apply; for tests and metrics. */
    public long applies() {
        return applies.get();
    }

    State desired(String hostId, State current) {
        List<Deployment> mine = deployments.list(hostId, null);
        Set<String> busy = new HashSet<>();
        for (Deployment d : mine) {
            if (jobs.busy(d.id())) {
                busy.add(DeploymentService.owner(d).toString());
            }
        }
        Map<String, RuleData> rules = new LinkedHashMap<>();
        for (RuleData r : current.rules()) {
            PortSource source = sourceOf(r.owner());
            if (source != null) {
                if (source.busy(r.owner())) {
                    rules.put(ManualPorts.ruleKey(r), r);
                }
                continue;
            }
            // A deploy in progress may have opened a port it has not recorded yet: keep its openings.
            if (!deploymentOwned(r.owner()) || busy.contains(r.owner().toString())) {
                rules.put(ManualPorts.ruleKey(r), r);
            }
        }
        for (PortSource source : sources) {
            for (RuleData r : source.rules(hostId)) {
                rules.putIfAbsent(ManualPorts.ruleKey(r), r);
            }
        }
        for (Deployment d : mine) {
            for (OpenPort p : d.openPorts()) {
                RuleData r = RuleData.port(Proto.parse("protocol", p.protocol()), p.port(), DeploymentService.owner(d));
                rules.putIfAbsent(ManualPorts.ruleKey(r), r);
            }
        }
        for (RuleData r : manual.rules(hostId)) {
            rules.putIfAbsent(ManualPorts.ruleKey(r), r);
        }
        Map<String, ForwardData> forwards = new LinkedHashMap<>();
        for (ForwardData f : current.forwards()) {
            if (!deploymentOwned(f.owner())) {
                forwards.put(ManualPorts.forwardKey(f.protocol(), f.hostPort()), f);
            }
        }
        for (ForwardData f : manual.forwards(hostId)) {
            forwards.putIfAbsent(ManualPorts.forwardKey(f.protocol(), f.hostPort()), f);
        }
        return new State(new ArrayList<>(rules.values()), new ArrayList<>(forwards.values()));
    }

    private static boolean same(State a, State b) {
        return new HashSet<>(a.rules()).equals(new HashSet<>(b.rules()))
                && new HashSet<>(a.forwards()).equals(new HashSet<>(b.forwards()));
    }

    static boolean deploymentOwned(Owner owner) {
        return owner != null && DeploymentService.OWNER_KIND.equals(owner.kind());
    }

    // ---- the admin passthrough ----

    @Override
    public Object beforePassthrough(String actor, String hostId, String command, Object data) {
        if (!FirewallSchema.OPEN.equals(command) && !FirewallSchema.FORWARD_ADD.equals(command)) {
            return data;
        }
        try {
            JsonNode node = Json.MAPPER.valueToTree(data);
            if (node instanceof ObjectNode o && (o.get("owner") == null || o.get("owner").isNull())) {
                // An opening nobody owns would be indistinguishable later; it is the admin's.
                o.put("owner", manualOwner(actor).toString());
                return o;
            }
        } catch (RuntimeException e) {
            // Not an object: the Guardian answers the bad data.
        }
        return data;
    }

    @Override
    public void passedThrough(String hostId, String command, Object data) {
        executor.execute(() -> {
            try {
                switch (command) {
                    case FirewallSchema.OPEN -> {
                        RuleData r = Json.MAPPER.convertValue(data, RuleData.class);
                        if (!deploymentOwned(r.owner())) {
                            manual.opened(hostId, r);
                        }
                    }
                    case FirewallSchema.CLOSE -> manual.closed(hostId, Json.MAPPER.convertValue(data, Close.class));
                    case FirewallSchema.FORWARD_ADD -> {
                        ForwardData f = Json.MAPPER.convertValue(data, ForwardData.class);
                        if (!deploymentOwned(f.owner())) {
                            manual.forwardAdded(hostId, f);
                        }
                    }
                    case FirewallSchema.FORWARD_REMOVE ->
                            manual.forwardRemoved(hostId, Json.MAPPER.convertValue(data, ForwardRemove.class));
                    case FirewallSchema.APPLY -> manual.applied(hostId, Json.MAPPER.convertValue(data, State.class));
                    default -> {
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("host {}: could not record the admin's {}: {}", hostId, command, e.toString());
            }
        });
    }

    /** {@code manual/ACTOR}, the actor's name made fit for an owner. */
    static Owner manualOwner(String actor) {
        String name = actor == null ? "" : actor.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
        if (name.isEmpty() || name.length() > 100) {
            name = "admin";
        }
        return Owner.of("manual", name);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
