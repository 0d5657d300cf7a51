package dev.hostdeploy.manager;

import java.io.File;
import java.time.Duration;
import java.util.List;

import java.util.logging.Level;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** Headless Debian chromium through chromedriver (both from apt), for the console's browser tests. */
final class Browser implements AutoCloseable {
    static final String CHROMIUM = System.getenv().getOrDefault("HOSTDEPLOY_CHROMIUM", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getenv().getOrDefault("HOSTDEPLOY_CHROMEDRIVER", "/usr/bin/chromedriver");

    final ChromeDriver driver;
    final String base;

    Browser(String base, int width, int height) {
        this.base = base;
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        // Root in CI has no user namespace sandbox; /dev/shm is small in containers.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=" + width + "," + height, "--no-first-run", "--disable-extensions");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
    }

    Browser(String base) {
        this(base, 1280, 900);
    }

    void open(String path) {
        driver.get(base + path);
    }

    WebElement await(By by) {
        return new WebDriverWait(driver, Duration.ofSeconds(20)).until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    void awaitText(By by, String text) {
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
    }

    void awaitTrue(String what, java.util.function.Function<WebDriver, Boolean> condition, Duration timeout) {
        // The console re-renders lists while something is changing: an element read a moment ago may be
        // replaced, so a stale one means "look again", as a user's eyes would.
        new WebDriverWait(driver, timeout).withMessage(what)
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition::apply);
    }

    /** The API token form of the sign-in page. */
    void signInWithToken(String token) {
        open("/");
        WebElement field = await(By.cssSelector("#token-sign-in input[name=token]"));
        field.sendKeys(token);
        driver.findElement(By.cssSelector("#token-sign-in button[type=submit]")).click();
        await(By.id("sign-out"));
    }

    /** Console messages that report a Content-Security-Policy violation (none expected). */
    List<String> cspViolations() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage)
                .filter(m -> m.contains("Content Security Policy")).toList();
    }

    String cookie(String name) {
        var c = driver.manage().getCookieNamed(name);
        return c == null ? null : c.getValue();
    }

    @Override
    public void close() {
        driver.quit();
    }
}
