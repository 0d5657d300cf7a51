package dev.hostdeploy.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreEnvTest {
    @TempDir
    Path dir;

    @Test
    void everyValueReadsBackExactlyFromTheQuotedEnvFile() {
        Store store = new Store(dir);
        Map<String, String> env = Map.of("A", "it's \"q\" ${HOME} $PATH #x", "B", "ends with \\", "C", "\\'",
                "D", "${HOSTDEPLOY_BS}${HOSTDEPLOY_LB}", "E", "", "F", "  spaced  ");

        store.writeEnv("web", env);

        assertThat(store.env("web")).isEqualTo(env);
        assertThat(store.writeEnv("web", env)).isFalse();
    }

    @Test
    void aRawEnvFileOfAnOlderWorkerIsReadAsItIsAndRewrittenQuoted() throws Exception {
        Store store = new Store(dir);
        Files.writeString(store.envFile("old"), "TOKEN='kept as is'\n");

        assertThat(store.env("old")).isEqualTo(Map.of("TOKEN", "'kept as is'"));
        assertThat(store.writeEnv("old", store.env("old"))).isTrue();
        assertThat(Files.readString(store.envFile("old"))).startsWith(Store.ENV_HEADER);
        assertThat(store.env("old")).isEqualTo(Map.of("TOKEN", "'kept as is'"));
    }
}
