package dev.hostdeploy.manager.containers;

import static dev.hostdeploy.manager.containers.ContainerOps.pause;
import static dev.hostdeploy.manager.agents.AgentErrors.message;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.containers.ContainerApi.Drift;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.manager.store.AuditLog;
import dev.hostdeploy.schema.lxc.LxcSchema;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records kept consistent with the hosts: what a stopped Manager left half-done is resolved at the next
 * start, and each (re)connecting Worker's containers are compared with the records.
 */
final class ContainerRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerRecovery.class);
    private final ContainerOps ops;
    private final Containers repo;
    private final AgentRegistry agents;
    private final JobRunner jobs;
    private final AuditLog audit;
    private final ContainerSettings settings;
    private final ContainerDomains domains;
    private final ContainerJobs containerJobs;
    /**
     * Stored, so a restart compares against what was already reported: reporting is once per change, and a
     * Manager restarting beside 1,000 Workers does not write the same audit entries again (each write is a
     * commit of the embedded store).
     */
    private final Map<String, Drift> drift = new ConcurrentHashMap<>();

    ContainerRecovery(ContainerOps ops, AuditLog audit, ContainerSettings settings, ContainerDomains domains,
                      ContainerJobs containerJobs) {
        this.ops = ops;
        this.repo = ops.repo;
        this.agents = ops.agents;
        this.jobs = ops.jobs;
        this.audit = audit;
        this.settings = settings;
        this.domains = domains;
        this.containerJobs = containerJobs;
        drift.putAll(repo.drifts());
    }

    /** What the last comparison of each registered host's Worker with the records found. */
    List<Drift> drift() {
        List<Drift> out = new ArrayList<>();
        drift.forEach((hostId, d) -> {
            if (agents.get(hostId).isPresent()) {
                out.add(d);
            }
        });
        return out;
    }

    /**
     * Resolves what a stopped Manager left half-done: a create is rolled back (nothing of it stays), a
     * delete is finished. Each waits for its host's agents, at most the recovery wait.
     */
    void recoverInterrupted() {
        for (Operation op : repo.unfinished()) {
            Container c = repo.find(op.containerId()).orElse(null);
            if (c == null) {
                repo.end(op.id(), Containers.OP_FAILED, "interrupted by a Manager restart");
                continue;
            }
            if (Containers.CREATING.equals(c.state()) || Containers.DELETING.equals(c.state())) {
                continue; // resolved below, under this operation
            }
            repo.end(op.id(), Containers.OP_FAILED, "interrupted by a Manager restart");
        }
        Map<String, Operation> open = new java.util.HashMap<>();
        repo.unfinished().forEach(o -> open.putIfAbsent(o.containerId(), o));
        for (Container c : repo.all()) {
            Operation op = open.get(c.id());
            if (Containers.CREATING.equals(c.state())) {
                String opId = op != null ? op.id() : ops.begin(c, "create", "recovery").id();
                ops.note(c.id(), opId, "the Manager restarted during this create: rolling it back");
                jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
                    long deadline = System.nanoTime() + settings.recoveryWait().toNanos();
                    // The Worker may still be busy with the create it was given: try again until it answers.
                    while (ops.awaitAgents(c.hostId(), settings.recoveryWait())
                            && !containerJobs.rollback(c.id(), opId, "interrupted by a Manager restart")
                            && System.nanoTime() < deadline) {
                        if (!pause(Duration.ofSeconds(1))) {
                            return;
                        }
                    }
                });
            } else if (Containers.DELETING.equals(c.state())) {
                String opId = op != null ? op.id() : ops.begin(c, "delete", "recovery").id();
                ops.note(c.id(), opId, "the Manager restarted during this delete: finishing it");
                jobs.submit(c.id(), JobRunner.Kind.OTHER, () -> {
                    if (ops.awaitAgents(c.hostId(), settings.recoveryWait())) {
                        containerJobs.runDelete(c.id(), opId);
                    }
                });
            }
        }
        domains.recoverDomains(settings.recoveryWait());
    }

    /**
     * Compares the Worker's containers with the records of its host: a record without its container is
     * missing, a hostdeploy container without a record is foreign. Both are reported (in {@code /stats}
     * and the audit log), never deleted: an admin decides.
     */
    void compare(String hostId, java.util.concurrent.Executor executor) {
        // No thread waits for the Worker's answer: at a Manager restart every Worker connects within seconds,
        // and a thread blocked per host would be a thread per host.
        java.util.concurrent.CompletableFuture<LxcSchema.ContainerList> listed;
        try {
            listed = agents.worker(hostId).lxcList(null);
        } catch (RuntimeException e) {
            listed = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        listed.thenAcceptAsync(list -> compare(hostId, list), executor).exceptionally(e -> {
            LOG.info("host {}: the worker's containers could not be compared with the records: {}", hostId, message(e));
            return null;
        });
    }

    private void compare(String hostId, LxcSchema.ContainerList list) {
        String hostName = agents.get(hostId).map(HostAgents::hostName).orElse(hostId);
        Map<String, LxcSchema.Container> live = new LinkedHashMap<>();
        list.containers().forEach(x -> live.put(x.name(), x));
        List<Container> records = repo.byHost(hostId);
        java.util.Set<String> recorded = new java.util.HashSet<>();
        List<String> missing = new ArrayList<>();
        for (Container c : records) {
            recorded.add(c.instance());
            if (!Containers.BUSY.contains(c.state()) && !live.containsKey(c.instance())) {
                missing.add(c.instance());
            }
        }
        List<String> foreign = new ArrayList<>();
        for (LxcSchema.Container x : live.values()) {
            if (!recorded.contains(x.name())) {
                foreign.add(x.name());
            }
        }
        Drift now = new Drift(hostName, missing, foreign, Instant.now());
        Drift before = drift.put(hostId, now);
        List<String> wasMissing = before == null ? List.of() : before.missing();
        List<String> wasForeign = before == null ? List.of() : before.foreign();
        if (!wasMissing.equals(missing) || !wasForeign.equals(foreign)) {
            repo.saveDrift(hostId, now);
        }
        List<String> newlyMissing = missing.stream().filter(m -> !wasMissing.contains(m)).toList();
        List<String> newlyForeign = foreign.stream().filter(f -> !wasForeign.contains(f)).toList();
        for (String m : newlyMissing) {
            audit.record("manager", "container.missing", "host/" + hostName + "/" + m, "reported", null);
        }
        for (String f : newlyForeign) {
            audit.record("manager", "container.foreign", "host/" + hostName + "/" + f, "reported", null);
        }
        // Logged once, when first seen (every reconnect compares again). A missing container is a
        // member's data gone: a warning. A foreign one is something made beside hostdeploy, harmless to
        // it and already in /stats and the audit log: information, or a fleet with hand-made
        // containers would log a warning per host at every Manager start.
        if (!newlyMissing.isEmpty()) {
            LOG.warn("host {}: containers missing on the worker {}", hostName, newlyMissing);
        }
        if (!newlyForeign.isEmpty()) {
            LOG.info("host {}: containers on the worker without a record {}", hostName, newlyForeign);
        }
    }
}
