package dev.hostdeploy.manager.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class JobRunnerTest {
    @Test
    void deploysAskedForDuringADeployQueueExactlyOneMore() throws Exception {
        try (JobRunner jobs = new JobRunner(4)) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch started = new CountDownLatch(1);
            List<String> ran = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(2);
            assertThat(jobs.submit("web", JobRunner.Kind.DEPLOY, () -> {
                started.countDown();
                hold(release);
                ran.add("first");
                done.countDown();
            })).isTrue();
            started.await();
            assertThat(jobs.busy("web")).isTrue();
            assertThat(jobs.submit("web", JobRunner.Kind.DEPLOY, () -> {
                ran.add("second");
                done.countDown();
            })).isTrue();
            for (int i = 0; i < 5; i++) {
                assertThat(jobs.submit("web", JobRunner.Kind.DEPLOY, () -> ran.add("more"))).as("joins the waiting one")
                        .isFalse();
            }
            release.countDown();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            jobs.call("web", () -> "after").get(10, TimeUnit.SECONDS);
            assertThat(ran).containsExactly("first", "second");
        }
    }

    @Test
    void oneJobAtATimePerDeploymentAndAtMostTheBoundOverall() throws Exception {
        try (JobRunner jobs = new JobRunner(2)) {
            AtomicInteger now = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            AtomicInteger perKeyPeak = new AtomicInteger();
            AtomicInteger webNow = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(12);
            for (int i = 0; i < 12; i++) {
                String key = i % 3 == 0 ? "web" : "other-" + i;
                jobs.submit(key, JobRunner.Kind.OTHER, () -> {
                    peak.accumulateAndGet(now.incrementAndGet(), Math::max);
                    if (key.equals("web")) {
                        perKeyPeak.accumulateAndGet(webNow.incrementAndGet(), Math::max);
                    }
                    sleep();
                    if (key.equals("web")) {
                        webNow.decrementAndGet();
                    }
                    now.decrementAndGet();
                    done.countDown();
                });
            }
            assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(peak.get()).isEqualTo(2);
            assertThat(perKeyPeak.get()).isEqualTo(1);
        }
    }

    /** Blocks the job until the test releases it. */
    private static void hold(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep() {
        try {
            // The job's work, not a wait: holds the slot long enough for the others to pile up behind it.
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
