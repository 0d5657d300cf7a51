package dev.hostdeploy.manager.stats;

import dev.hostdeploy.manager.agents.AgentRegistry;
import dev.hostdeploy.manager.agents.GuardianApi;
import dev.hostdeploy.manager.agents.HostAgents;
import dev.hostdeploy.manager.agents.WorkerApi;
import dev.hostdeploy.manager.stats.Records.Item;
import dev.hostdeploy.protocol.AgentCallException;
import dev.hostdeploy.protocol.ErrorData;
import dev.hostdeploy.schema.deploy.DeploySchema;
import dev.hostdeploy.schema.deploy.DeploySchema.DeploymentList;
import dev.hostdeploy.schema.firewall.FirewallSchema;
import dev.hostdeploy.schema.host.HostSchema;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import dev.hostdeploy.schema.lxc.LxcSchema;
import dev.hostdeploy.schema.lxc.LxcSchema.ContainerList;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * What a stats round asks one host's agents, and their answers as the round reads them: each query's
 * value or its error. Apart from {@link StatsService}, which paces the round and assembles the report.
 */
final class StatsQueries {
    private final Duration callTimeout;

    StatsQueries(Duration callTimeout) {
        this.callTimeout = callTimeout;
    }

    /** A query's answer, or why there is none ("code: message"). */
    record Answer<T>(T value, String error) {
        @SuppressWarnings("unchecked")
        <U> Answer<U> cast() {
            return (Answer<U>) this;
        }

        /** One part of a combined reply: its value, or the error the agent put under its query's name. */
        static <T> Answer<T> part(T value, ErrorData error, String query) {
            if (value != null) {
                return new Answer<>(value, null);
            }
            return new Answer<>(null, error != null ? error.code() + ": " + error.message()
                    : "internal: the reply had no " + query + " part and no error for it");
        }

        <U> Answer<U> map(java.util.function.Function<T, U> f) {
            return value == null ? cast() : new Answer<>(f.apply(value), null);
        }

        /** The call's answer, or a timeout error after {@code timeout}: a slow query costs only its own part. */
        static <T> CompletableFuture<Answer<T>> of(CompletableFuture<T> call, Duration timeout) {
            return call.handle((r, e) -> e == null ? new Answer<>(r, null)
                    : new Answer<T>(null, AgentRegistry.errorCode(e) + ": " + message(e)))
                    .completeOnTimeout(new Answer<>(null, "timeout: no answer within " + timeout.toMillis() + " ms"),
                            timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** One host's five answers, as they came (or why they did not). */
    record HostAnswers(HostAgents host, Answer<HostStats> stats, Answer<List<Item>> deployments,
                               Answer<List<Item>> containers, Answer<FirewallSchema.State> rules,
                               Answer<FirewallSchema.Status> status) {
        /** A host whose agents did not answer within the round: its figures come from stored records. */
        static HostAnswers late(HostAgents h, Duration timeout) {
            Answer<Object> none = new Answer<>(null, "timeout: no answer within the stats round ("
                    + timeout.toMillis() + " ms)");
            return new HostAnswers(h, none.cast(), none.cast(), none.cast(), none.cast(), none.cast());
        }
    }

    private record WorkerAnswers(Answer<HostStats> stats, Answer<List<Item>> deployments, Answer<List<Item>> containers) {
    }

    private record GuardianAnswers(Answer<FirewallSchema.State> rules, Answer<FirewallSchema.Status> status) {
    }

    CompletableFuture<HostAnswers> ask(HostAgents h) {
        return askWorker(h.workerApi()).thenCombine(askGuardian(h.guardianApi()), (w, g) ->
                new HostAnswers(h, w.stats(), w.deployments(), w.containers(), g.rules(), g.status()));
    }

    /**
     * One {@code host.summary} when the Worker serves it (one reply of names and states where three replies
     * of full records took most of a round at 1,000 hosts), otherwise its three queries as before.
     */
    private CompletableFuture<WorkerAnswers> askWorker(WorkerApi worker) {
        if (worker.handle().serves(HostSchema.SUMMARY)) {
            return Answer.of(worker.hostSummary(), callTimeout).thenApply(a -> {
                HostSchema.HostSummary s = a.value();
                if (s == null) {
                    return new WorkerAnswers(a.cast(), a.cast(), a.cast());
                }
                return new WorkerAnswers(Answer.part(s.stats(), s.errors().get(HostSchema.STATS), HostSchema.STATS),
                        Answer.part(s.deployments(), s.errors().get(DeploySchema.LIST), DeploySchema.LIST)
                                .map(StatsQueries::items),
                        Answer.part(s.containers(), s.errors().get(LxcSchema.LIST), LxcSchema.LIST)
                                .map(StatsQueries::items));
            });
        }
        CompletableFuture<Answer<HostStats>> stats = Answer.of(worker.hostStats(), callTimeout);
        CompletableFuture<Answer<DeploymentList>> deployments = Answer.of(worker.deployList(), callTimeout);
        CompletableFuture<Answer<ContainerList>> containers = Answer.of(worker.lxcList(null), callTimeout);
        return CompletableFuture.allOf(stats, deployments, containers).thenApply(v -> new WorkerAnswers(stats.join(),
                deployments.join().map(StatsQueries::items), containers.join().map(StatsQueries::items)));
    }

    /** One {@code firewall.summary} when the Guardian serves it, otherwise {@code firewall.list} and {@code .status}. */
    private CompletableFuture<GuardianAnswers> askGuardian(GuardianApi guardian) {
        if (guardian.handle().serves(FirewallSchema.SUMMARY)) {
            return Answer.of(guardian.summary(), callTimeout).thenApply(a -> new GuardianAnswers(
                    a.map(FirewallSchema.Summary::state), a.map(FirewallSchema.Summary::status)));
        }
        CompletableFuture<Answer<FirewallSchema.State>> rules = Answer.of(guardian.list(), callTimeout);
        CompletableFuture<Answer<FirewallSchema.Status>> status = Answer.of(guardian.status(), callTimeout);
        return rules.thenCombine(status, GuardianAnswers::new);
    }

    private static List<Item> items(DeploymentList d) {
        return d.deployments().stream().map(x -> new Item(x.name(), x.status(), null)).toList();
    }

    private static List<Item> items(ContainerList c) {
        return c.containers().stream()
                .map(x -> new Item(x.name(), x.status(), x.owner() == null ? null : x.owner().toString())).toList();
    }

    private static List<Item> items(List<HostSchema.Item> summary) {
        return summary.stream()
                .map(x -> new Item(x.name(), x.status(), x.owner() == null ? null : x.owner().toString())).toList();
    }

    private static String message(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return t instanceof AgentCallException a ? a.error().message() : t.toString();
    }
}
