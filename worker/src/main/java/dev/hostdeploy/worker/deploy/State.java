package dev.hostdeploy.worker.deploy;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.hostdeploy.schema.deploy.DeploySchema.Deployed;
import java.util.ArrayList;
import java.util.List;

/**
 * What the Worker remembers of one deployment between calls and restarts ({@code .state/NAME.json}).
 * {@code commit} is the commit whose containers compose last started; {@code status} is
 * {@code running}, {@code stopped} or {@code failed}; {@code history} lists deployed commits, newest first.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
record State(String name, String repo, String ref, String composePath, String commit, String status,
             String lastError, String updatedAt, List<String> services, List<Deployed> history) {
    static final int HISTORY = 20;

    State {
        services = services == null ? List.of() : List.copyOf(services);
        history = history == null ? List.of() : List.copyOf(history);
    }

    State withHistory(String commit, String at) {
        List<Deployed> h = new ArrayList<>();
        h.add(new Deployed(commit, at));
        for (Deployed d : history) {
            if (h.size() < HISTORY && !d.commit().equals(commit)) {
                h.add(d);
            }
        }
        return new State(name, repo, ref, composePath, commit, status, lastError, updatedAt, services, h);
    }

    State withStatus(String newStatus, String error, String at) {
        return new State(name, repo, ref, composePath, commit, newStatus, error, at, services, history);
    }
}
