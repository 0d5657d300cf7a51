package dev.hostdeploy.manager.containers;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.containers.ContainerApi.ContainerView;
import dev.hostdeploy.manager.containers.ContainerApi.Ssh;
import dev.hostdeploy.manager.containers.Containers.Container;
import dev.hostdeploy.manager.containers.Containers.Operation;
import dev.hostdeploy.manager.hosts.HostService;
import dev.hostdeploy.manager.hosts.Hosts;
import dev.hostdeploy.manager.http.Caller;
import dev.hostdeploy.manager.jobs.JobRunner;
import dev.hostdeploy.protocol.ProtocolException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What every part of the containers feature shares: the records, the agents, the per-container job queue and
 * the live events, with the recording of operations (each step stored and sent to followers) and the views.
 */
final class ContainerOps {
    final Containers repo;
    final HostService hosts;
    final AgentRegistry agents;
    final JobRunner jobs;
    final ContainerEvents events;

    ContainerOps(Containers repo, HostService hosts, AgentRegistry agents, JobRunner jobs, ContainerEvents events) {
        this.repo = repo;
        this.hosts = hosts;
        this.agents = agents;
        this.jobs = jobs;
        this.events = events;
    }

    Operation begin(Container c, String kind, String actor) {
        Operation op = repo.begin(c.id(), c.ownerId(), kind, actor);
        events.began(c.id(), op.id(), kind);
        return op;
    }

    void note(String containerId, String opId, String line) {
        repo.step(opId, line);
        events.step(containerId, opId, line);
    }

    void setState(String containerId, String state, String error) {
        repo.state(containerId, state, error);
        events.state(containerId, state, error);
    }

    /** The container if the caller may see it; another member's is 404, never 403. */
    Container visible(Caller caller, String id) {
        Container c = repo.find(id).orElse(null);
        if (c == null || (!caller.admin() && !caller.id().equals(c.ownerId()))) {
            throw ProtocolException.notFound("no container " + id);
        }
        return c;
    }

    static Container idle(Container c) {
        if (Containers.BUSY.contains(c.state())) {
            throw ProtocolException.conflict("the container is " + c.state());
        }
        return c;
    }

    ContainerView view(Container c, String opId) {
        Hosts.Host host = null;
        try {
            host = hosts.require(c.hostId());
        } catch (ProtocolException e) {
            // The host was deleted: the record stays until an admin deletes it.
        }
        Ssh ssh = null;
        if (c.sshPort() != null && host != null) {
            String h = host.sshHost();
            String at = h.contains(":") ? "[" + h + "]" : h;
            ssh = new Ssh(h, c.sshPort(), "ssh -p " + c.sshPort() + " root@" + at);
        }
        return new ContainerView(c.id(), c.name(), c.ownerName(), host == null ? null : host.name(), c.state(),
                c.image(), c.size(), ssh, c.createdAt(), c.ownerId(), c.hostId(), c.deleteAfter(), c.kept(),
                c.lastError(), opId);
    }

    static String state(String lxdStatus) {
        return lxdStatus == null ? Containers.STOPPED : lxdStatus.toLowerCase(Locale.ROOT);
    }

    /** Waits for an agent call; its failure is rethrown as the agent's own error. */
    static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : new CompletionException(c);
        }
    }

    static boolean interrupted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException) {
                return true;
            }
        }
        return Thread.currentThread().isInterrupted();
    }

    static boolean pause(Duration d) {
        try {
            TimeUnit.MILLISECONDS.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits at most {@code wait} for both of the host's agents to be connected; false if they are not. */
    boolean awaitAgents(String hostId, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            HostAgents h = agents.get(hostId).orElse(null);
            if (h == null) {
                return false;
            }
            if (h.worker().connected() && h.guardian().connected()) {
                return true;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
