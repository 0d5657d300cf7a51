package dev.hostdeploy.manager.containers;

import dev.hostdeploy.manager.agents.AgentConnection;
import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.containers.ContainerApi.Usage;
import dev.hostdeploy.manager.containers.ContainerApi.Use;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.http.ApiException;
import dev.hostdeploy.manager.store.ManagerJson;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.manager.users.Users;
import dev.hostdeploy.protocol.AgentInfo;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import dev.hostdeploy.schema.lxc.LxcRules;
import dev.hostdeploy.schema.lxc.LxcSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Members' quotas and the choice of a host for a new container. */
final class Placement {
    private static final Duration STATS_TIMEOUT = Duration.ofSeconds(5);
    /** Quota checks and placement one at a time, so concurrent requests never overshoot either. */
    final Object lock = new Object();
    private final Containers repo;
    private final UserService users;
    private final AgentRegistry agents;
    private final ContainerSettings settings;
    private final ContainerDomains domains;

    Placement(Containers repo, UserService users, AgentRegistry agents, ContainerSettings settings, ContainerDomains domains) {
        this.repo = repo;
        this.users = users;
        this.agents = agents;
        this.settings = settings;
        this.domains = domains;
    }

    Usage usage(String userId) {
        Users.Quota q = users.quota(userId);
        long n = 0;
        long cpus = 0;
        long mem = 0;
        long disk = 0;
        for (Container c : repo.byOwner(userId)) {
            n++;
            cpus += c.cpus();
            mem += c.memoryBytes();
            disk += c.diskBytes();
        }
        long domainCount = domains.count(userId);
        return new Usage(new Use(n, (long) (q.containers() != null ? q.containers() : settings.maxContainers())),
                new Use(cpus, q.cpus() == null ? null : (long) q.cpus()),
                new Use(mem, q.memory() == null ? null : LxcRules.sizeBytes(q.memory())),
                new Use(disk, q.disk() == null ? null : LxcRules.sizeBytes(q.disk())),
                new Use(domainCount, (long) (q.domains() != null ? q.domains() : domains.maxDomains())));
    }

    /** Call holding {@link #lock}. */
    void checkQuota(String ownerId, ContainerSize size) {
        Usage u = usage(ownerId);
        check("containers", u.containers(), 1);
        check("cpus", u.cpus(), size.cpus());
        check("memory", u.memory(), size.memoryBytes());
        check("disk", u.disk(), size.diskBytes());
    }

    /** Call holding {@link #lock}. */
    void checkDomain(String ownerId) {
        check("domains", usage(ownerId).domains(), 1);
    }

    private static void check(String limit, Use use, long more) {
        if (use.limit() != null && use.used() + more > use.limit()) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("limit", limit);
            details.put("quota", use.limit());
            details.put("used", use.used());
            details.put("requested", more);
            throw new ApiException(409, "quota_exceeded", "over quota: " + limit + " would be " + (use.used() + more)
                    + ", the quota is " + use.limit(), details);
        }
    }

    /** The hosts a container of the image may go to: both agents connected, the image allowed by the Worker. */
    List<HostAgents> candidates(String image) {
        List<HostAgents> candidates = new ArrayList<>();
        for (HostAgents h : agents.all()) {
            if (h.worker().connected() && h.guardian().connected() && allowedImages(h.worker()).contains(image)) {
                candidates.add(h);
            }
        }
        if (candidates.isEmpty()) {
            throw noCapacity("no connected host allows the image " + image);
        }
        return candidates;
    }

    /** Each candidate's stats, empty if it did not answer in time. */
    List<CompletableFuture<Optional<HostStats>>> stats(List<HostAgents> candidates) {
        List<CompletableFuture<Optional<HostStats>>> stats = new ArrayList<>();
        for (HostAgents h : candidates) {
            stats.add(h.workerApi().hostStats().orTimeout(STATS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .thenApply(Optional::of).exceptionally(e -> Optional.empty()));
        }
        return stats;
    }

    /**
     * The candidate with the most memory free that has enough for the size ({@code stats[i]}: candidate i's,
     * empty if it did not answer). Call holding {@link #lock}.
     */
    String best(List<HostAgents> candidates, List<CompletableFuture<Optional<HostStats>>> stats, ContainerSize size,
                String image) {
        String best = null;
        long bestFree = Long.MIN_VALUE;
        for (int i = 0; i < candidates.size(); i++) {
            Optional<HostStats> s = stats.get(i).join();
            if (s.isEmpty()) {
                continue;
            }
            String hostId = candidates.get(i).hostId();
            // Containers still being made have not taken their memory yet: count them as taken.
            long reserved = repo.byHost(hostId).stream().filter(x -> Containers.CREATING.equals(x.state()))
                    .mapToLong(Container::memoryBytes).sum();
            long free = s.get().memoryAvailableBytes() - reserved;
            if (free >= size.memoryBytes() && free > bestFree) {
                best = hostId;
                bestFree = free;
            }
        }
        if (best == null) {
            throw noCapacity("no connected host has " + size.memory() + " of memory free for a " + size.name()
                    + " container of " + image);
        }
        return best;
    }

    private static ApiException noCapacity(String message) {
        return new ApiException(503, "no_capacity", message, Map.of("source", "manager", "retryable", true));
    }

    private static List<String> allowedImages(AgentConnection worker) {
        AgentInfo info = worker.info();
        if (info == null || info.details() == null || info.details().isNull()) {
            return List.of();
        }
        try {
            return ManagerJson.MAPPER.treeToValue(info.details(), LxcSchema.WorkerInfo.class).allowedImages();
        } catch (Exception e) {
            return List.of();
        }
    }
}
