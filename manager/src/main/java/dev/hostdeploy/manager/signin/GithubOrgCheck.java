package dev.hostdeploy.manager.signin;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import dev.hostdeploy.manager.deployments.SecretBox;
import dev.hostdeploy.manager.store.Database;
import dev.hostdeploy.manager.users.UserService;
import dev.hostdeploy.manager.users.Users;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic check (daily by default) that everyone who signed in through GitHub is still an active
 * member of the org: with each linked user's stored token it asks {@code GET /user/memberships/orgs/{org}}.
 * A state other than active, a 404 (not a member) or a 401/403 (the token revoked) offboards the user
 * ({@link UserService#memberLeft}: tokens revoked, sessions ended, containers stopped) and forgets the token,
 * so the next rounds skip them until they sign in again. A network error or a 5xx changes nothing: the user
 * is asked again next round. Admins pinned by login are checked the same way.
 */
public final class GithubOrgCheck implements AutoCloseable {
    /** The actor of the offboarding in the audit log. */
    public static final String ACTOR = "github-check";
    private static final Logger LOG = LoggerFactory.getLogger(GithubOrgCheck.class);

    private final GithubClient github;
    private final String org;
    private final Users users;
    private final UserService userService;
    private final SecretBox box;
    private final Duration every;
    private final MongoCollection<Document> state;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "github-org-check");
        t.setDaemon(true);
        return t;
    });

    /** One round's outcome: users still active, those offboarded, those GitHub could not answer for. */
    public record Round(List<String> active, List<String> left, List<String> unanswered) {
    }

    public GithubOrgCheck(GithubSignIn.Settings settings, Database db, UserService users, SecretBox box, Duration every) {
        this.github = GithubSignIn.client(settings);
        this.org = settings.org();
        this.users = users.users();
        this.userService = users;
        this.box = box;
        this.every = every;
        this.state = db.collection("github_org_check");
    }

    /**
     * Schedules the rounds. The first comes one interval after the last recorded round (at once when that is
     * past), so restarts more often than the interval never put the check off.
     */
    public void start() {
        Document last = state.find(Filters.eq("_id", "last")).first();
        long delay = every.toMillis();
        if (last != null && last.getDate("at") != null) {
            long due = last.getDate("at").toInstant().plus(every).toEpochMilli() - System.currentTimeMillis();
            delay = Math.max(0, Math.min(due, every.toMillis()));
        }
        timer.scheduleWithFixedDelay(() -> {
            try {
                round();
            } catch (RuntimeException e) {
                LOG.warn("GitHub org check failed: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, delay, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Checks every linked user once. */
    public synchronized Round round() throws InterruptedException {
        List<String> active = new ArrayList<>();
        List<String> left = new ArrayList<>();
        List<String> unanswered = new ArrayList<>();
        for (Users.GithubLink link : users.githubLinks()) {
            String why;
            try {
                String token = box.openText(link.sealedToken(), GithubSignIn.tokenBinding(link.userId()));
                GithubClient.CheckAnswer answer = github.check(token, org);
                if (answer.active()) {
                    active.add(link.name());
                    continue;
                }
                why = switch (answer.status()) {
                    case 200 -> "membership " + answer.state();
                    case 404 -> "not a member";
                    default -> "GitHub token revoked (HTTP " + answer.status() + ")";
                };
            } catch (IOException e) {
                LOG.warn("GitHub org check: no answer for {} ({}), asked again next round: {}", link.name(),
                        link.userId(), e.toString());
                unanswered.add(link.name());
                continue;
            } catch (IllegalStateException e) {
                // A token sealed under another key (the key file replaced): nothing to ask with until they sign in.
                LOG.warn("GitHub org check: the stored token of {} cannot be opened: {}", link.name(), e.getMessage());
                unanswered.add(link.name());
                continue;
            }
            LOG.info("GitHub org check: {} ({}) left {}: {}", link.name(), link.login(), org, why);
            users.githubToken(link.userId(), null);
            try {
                userService.memberLeft(link.userId(), "left GitHub org " + org + ": " + why, ACTOR);
                left.add(link.name());
            } catch (RuntimeException e) {
                LOG.warn("GitHub org check: offboarding {} failed: {}", link.name(), e.toString()); // e.g. deleted meanwhile
            }
        }
        state.replaceOne(Filters.eq("_id", "last"), new Document("_id", "last").append("at", Date.from(Instant.now()))
                .append("active", active.size()).append("left", left.size()).append("unanswered", unanswered.size()),
                new ReplaceOptions().upsert(true));
        return new Round(active, left, unanswered);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
