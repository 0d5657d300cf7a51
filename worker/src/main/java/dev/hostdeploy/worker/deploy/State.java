package dev.hostdeploy.worker.deploy;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.hostdeploy.schema.deploy.DeploySchema.Deployed;
import dev.hostdeploy.schema.deploy.PolicyRule;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the Worker remembers of one deployment between calls and restarts ({@code .state/NAME.json}).
 * {@code commit} is the commit whose containers compose last started; {@code status} is
 * {@code running}, {@code stopped} or {@code failed}; {@code history} lists deployed commits, newest first.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
record State(String name, String repo, String ref, String composePath, String commit, String status,
             String lastError, String updatedAt, List<String> services, List<Deployed> history,
             Map<String, List<String>> allow) {
    static final int HISTORY = 20;

    State {
        services = services == null ? List.of() : List.copyOf(services);
        history = history == null ? List.of() : List.copyOf(history);
    }

    State(String name, String repo, String ref, String composePath, String commit, String status, String lastError,
          String updatedAt, List<String> services, List<Deployed> history) {
        this(name, repo, ref, composePath, commit, status, lastError, updatedAt, services, history, null);
    }

    /** The compose policy exceptions the last sync gave (a rollback keeps them). */
    Map<PolicyRule, Set<String>> exceptions() {
        Map<PolicyRule, Set<String>> out = new EnumMap<>(PolicyRule.class);
        if (allow != null) {
            allow.forEach((k, v) -> PolicyRule.byKey(k).ifPresent(r -> out.put(r, Set.copyOf(v))));
        }
        return out;
    }

    State withAllow(Map<String, List<String>> newAllow) {
        return new State(name, repo, ref, composePath, commit, status, lastError, updatedAt, services, history,
                newAllow);
    }

    State withHistory(String commit, String at) {
        List<Deployed> h = new ArrayList<>();
        h.add(new Deployed(commit, at));
        for (Deployed d : history) {
            if (h.size() < HISTORY && !d.commit().equals(commit)) {
                h.add(d);
            }
        }
        return new State(name, repo, ref, composePath, commit, status, lastError, updatedAt, services, h, allow);
    }

    State withStatus(String newStatus, String error, String at) {
        return new State(name, repo, ref, composePath, commit, newStatus, error, at, services, history, allow);
    }
}
