package dev.hostdeploy.schema.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hostdeploy.protocol.ProtocolException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RulesTest {
    @Test
    void refRulesAgreeWithGitCheckRefFormat() throws Exception {
        List<String> samples = List.of("main", "feature/x", "v1.2.3", "refs/heads/main", "refs/tags/v1", "a..b",
                "a/.b", "a.lock", "a/b.lock/c", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "a//b", "/a",
                "a/", "a.", "@", "a@{1}", "x@y", "caf\u00e9", "tab\there", "0123456789abcdef", "HEAD", ".hidden");
        for (String ref : samples) {
            boolean gitSays = gitAccepts(ref);
            assertThat(accepts(ref)).as("ref %s (git: %s)", ref, gitSays).isEqualTo(gitSays);
        }
    }

    @Test
    void refsThatGitWouldReadAsOptionsAreRefused() {
        assertThat(accepts("-h")).isFalse();
        assertThat(accepts("--upload-pack=x")).isFalse();
    }

    @Test
    void repositoryNamesFollowGithubRules() {
        assertThat(repoOk("acme/site")).isTrue();
        assertThat(repoOk("Acme-Org/my_site.v2")).isTrue();
        assertThat(repoOk("acme/.github")).isTrue();
        assertThat(repoOk("acme-/site")).isFalse();
        assertThat(repoOk("ac--me/site")).isFalse();
        assertThat(repoOk("acme/si te")).isFalse();
        assertThat(repoOk("acme/")).isFalse();
        assertThat(repoOk("a".repeat(40) + "/x")).isFalse();
    }

    private static boolean gitAccepts(String ref) throws Exception {
        Process p = new ProcessBuilder("git", "check-ref-format", "--allow-onelevel", ref)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("git check-ref-format finished").isTrue();
        return p.exitValue() == 0;
    }

    private static boolean accepts(String ref) {
        try {
            Rules.ref(ref, "ref");
            return true;
        } catch (ProtocolException e) {
            return false;
        }
    }

    private static boolean repoOk(String repo) {
        try {
            Rules.repo(repo, "repo");
            return true;
        } catch (ProtocolException e) {
            return false;
        }
    }
}
