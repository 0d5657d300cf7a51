package dev.hostdeploy.bench.console;

import dev.hostdeploy.manager.Manager;
import dev.hostdeploy.manager.ManagerConfig;
import dev.hostdeploy.manager.stats.StatsHistory;
import dev.hostdeploy.schema.host.HostSchema.HostStats;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Issue 13's measurements, once, on loopback: the console's first page load (bytes and requests of HTML,
 * JS, CSS and API calls) and time to interactive in headless Chromium, then the stats page with 7 days of
 * 60-second samples for 5 hosts: bytes of the history sent and the time to fetch and draw it.
 * A real Manager in this JVM with the embedded store; Debian chromium and chromedriver.
 */
public final class ConsoleBench {
    static final int HOSTS = 5;
    static final Duration WEEK = Duration.ofDays(7);
    static final Duration STEP = Duration.ofSeconds(60);

    /** Sums the navigation and resource timings the page has so far. */
    static final String TIMINGS = """
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource');
            const pick = (f) => res.filter(f);
            const sum = (list, k) => list.reduce((a, e) => a + (e[k] || 0), 0);
            const assets = pick((e) => e.initiatorType !== 'fetch' && e.initiatorType !== 'xmlhttprequest');
            const calls = pick((e) => e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest');
            return {
              requests: 1 + res.length, assets: 1 + assets.length, apiCalls: calls.length,
              transfer: nav.transferSize + sum(res, 'transferSize'),
              assetBody: nav.encodedBodySize + sum(assets, 'encodedBodySize'),
              assetDecoded: nav.decodedBodySize + sum(assets, 'decodedBodySize'),
              apiBody: sum(calls, 'encodedBodySize'),
              domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
              interactive: Number(document.body.dataset.readyAt || -1)
            };
            """;

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("console-bench");
        String token = "hd_bench_" + UUID.randomUUID().toString().replace("-", "");
        ManagerConfig config = new ManagerConfig(dir.resolve("identity"), dir.resolve("data"))
                .listen(new InetSocketAddress("127.0.0.1", 0)).bootstrapToken(token)
                .statsHistory(Duration.ofHours(1), WEEK);
        try (Manager manager = Manager.start(config)) {
            String base = "http://127.0.0.1:" + manager.port();
            long filled = fill(manager.statsHistory());
            System.out.printf("stats history: %d samples (%d hosts x 7 days at 60 s) stored in %.1f s%n",
                    HOSTS * WEEK.dividedBy(STEP), HOSTS, filled / 1e9);

            try (Chrome c = new Chrome()) {
                c.driver.get(base + "/");
                c.until("the sign-in page", "return document.body.dataset.ready === 'true'");
                report("first page load (sign-in page, empty cache)", c.timings());
                c.driver.findElement(By.cssSelector("#token-sign-in input[name=token]")).sendKeys(token);
                c.driver.findElement(By.cssSelector("#token-sign-in button[type=submit]")).click();
                c.until("signed in", "return !!document.getElementById('sign-out')");
                // A signed-in visitor's load of the console itself, assets now cached.
                c.driver.navigate().refresh();
                c.until("the console", "return document.body.dataset.ready === 'true' && !!document.getElementById('sign-out')");
                report("signed-in reload (cached assets)", c.timings());
            }
            try (Chrome c = new Chrome()) {
                // Fresh profile: sign in with the API, then open the charts cold.
                c.driver.get(base + "/");
                c.until("the sign-in page", "return document.body.dataset.ready === 'true'");
                c.driver.findElement(By.cssSelector("#token-sign-in input[name=token]")).sendKeys(token);
                c.driver.findElement(By.cssSelector("#token-sign-in button[type=submit]")).click();
                c.until("signed in", "return !!document.getElementById('sign-out')");
                c.driver.get(base + "/#/stats");
                c.until("the last hour drawn", "return !!document.querySelector('#charts[data-points]')");
                c.driver.executeScript("performance.clearResourceTimings();");
                long t0 = System.nanoTime();
                new Select(c.driver.findElement(By.cssSelector("select[name=range]"))).selectByValue("week");
                c.until("a week drawn", "const e = document.getElementById('charts');"
                        + " return e && Number(e.dataset.points) > " + (HOSTS * WEEK.dividedBy(STEP) * 3 - 100) + ";");
                long wall = System.nanoTime() - t0;
                @SuppressWarnings("unchecked")
                Map<String, Object> h = (Map<String, Object>) c.driver.executeScript("""
                        const e = performance.getEntriesByType('resource').find((r) => r.name.includes('/stats/history'));
                        const charts = document.getElementById('charts');
                        return { transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize,
                          server: e.responseStart - e.requestStart, download: e.responseEnd - e.responseStart,
                          fetchMs: Number(charts.dataset.fetchMs), renderMs: Number(charts.dataset.renderMs),
                          points: Number(charts.dataset.points) };
                        """);
                System.out.printf("charts, last week (%s points): history sent %s bytes on the wire (%s body, %s decoded JSON);"
                                + " server %.0f ms, download %.0f ms, fetch+parse %.0f ms, draw %.0f ms; select->drawn %.0f ms%n",
                        h.get("points"), h.get("transfer"), h.get("body"), h.get("decoded"), num(h.get("server")),
                        num(h.get("download")), num(h.get("fetchMs")), num(h.get("renderMs")), wall / 1e6);
            }
        }
    }

    static long fill(StatsHistory history) {
        long t0 = System.nanoTime();
        Instant now = Instant.now();
        long samples = WEEK.dividedBy(STEP);
        for (int host = 0; host < HOSTS; host++) {
            for (long i = 0; i < samples; i++) {
                double wave = (Math.sin(i / 90.0 + host) + 1) / 2;
                history.record("host-" + host, Date.from(now.minus(STEP.multipliedBy(i))),
                        new HostStats(1, 1, 1, 4, 16L << 30, (long) ((16L << 30) * (0.3 + 0.5 * wave)), "/", 500L << 30,
                                (long) ((500L << 30) * 0.6), 3, 4, Math.min(1, wave * 0.9 + (i % 7) / 70.0)));
            }
        }
        return System.nanoTime() - t0;
    }

    static void report(String what, Map<String, Object> t) {
        System.out.printf("%s: %s requests (%s HTML/JS/CSS, %s API calls), %s bytes on the wire;"
                        + " HTML+JS+CSS %s bytes (%s uncompressed), API bodies %s bytes;"
                        + " DOMContentLoaded %.0f ms, load %.0f ms, interactive %.0f ms%n",
                what, t.get("requests"), t.get("assets"), t.get("apiCalls"), t.get("transfer"), t.get("assetBody"),
                t.get("assetDecoded"), t.get("apiBody"), num(t.get("domContentLoaded")), num(t.get("load")),
                num(t.get("interactive")));
    }

    static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Headless Debian chromium with a fresh profile. */
    static final class Chrome implements AutoCloseable {
        final ChromeDriver driver;

        Chrome() {
            ChromeOptions options = new ChromeOptions();
            options.setBinary(System.getenv().getOrDefault("HOSTDEPLOY_CHROMIUM", "/usr/bin/chromium"));
            options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1280,900", "--no-first-run", "--disable-extensions");
            driver = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(
                    new File(System.getenv().getOrDefault("HOSTDEPLOY_CHROMEDRIVER", "/usr/bin/chromedriver")))
                    .usingAnyFreePort().build(), options);
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> timings() {
            return (Map<String, Object>) driver.executeScript(TIMINGS);
        }

        void until(String what, String script) {
            new WebDriverWait(driver, Duration.ofSeconds(60)).withMessage(what)
                    .until(d -> Boolean.TRUE.equals(driver.executeScript(script)));
        }

        @Override
        public void close() {
            driver.quit();
        }
    }
}
