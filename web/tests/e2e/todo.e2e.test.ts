/**
 * Browser end-to-end: Debian Chromium (playwright-core) against the production
 * Next build, the Rust edge and tasks, all started here on free ports with
 * fresh secrets and temp SQLite databases. Every process is killed in afterAll.
 *
 * The scenario runs twice, on one build: AUTH_JWT_MODE=hs256 (web and edge
 * share BETTER_AUTH_SECRET) and AUTH_JWT_MODE=jwks (Better Auth's EdDSA keys;
 * the edge has no secret and fetches ${BETTER_AUTH_URL}/api/auth/jwks).
 *
 * With E2E_WEB_URL (e.g. http://localhost:3000 of a `docker compose` stack)
 * it starts no process and builds nothing: the scenario runs once against
 * that web app, and the edge is the one the page itself calls.
 *
 * Every page runs under the app's Content-Security-Policy: each mode ends by
 * checking that nothing the scenario did broke it (no `securitypolicyviolation`
 * event, no CSP console error), and that another page cannot frame the app.
 *
 * Env: EDGE_BIN, TASKS_BIN (Rust binaries), CHROMIUM_PATH (default
 * /usr/bin/chromium), E2E_REBUILD=1 to force `next build` (otherwise an
 * existing build newer than the sources is reused; the project's globalSetup
 * builds), E2E_WEB_URL.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeProtectedHeader } from "jose";
import { WEB_DIR, binPath, freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";
import { migrate, startWeb, webEnv } from "../support/web";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const RESULTS = join(WEB_DIR, "test-results");

/** An already running web app to test instead of starting one (no trailing slash). */
const EXTERNAL_WEB = process.env.E2E_WEB_URL?.trim().replace(/\/+$/, "") || undefined;

/** `external`: the app at E2E_WEB_URL, whatever its AUTH_JWT_MODE. */
type Mode = "hs256" | "jwks" | "external";
const MODES: Mode[] = EXTERNAL_WEB ? ["external"] : ["hs256", "jwks"];

let browser: Browser | undefined;

// One browser for both modes (the production build comes from the project's
// globalSetup; AUTH_JWT_MODE is read by the server at run time, so the same
// build serves either).
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
  if (!EXTERNAL_WEB) {
    binPath("EDGE_BIN", "edge"); // fail fast and clearly when the Rust binaries are missing
    binPath("TASKS_BIN", "tasks");
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close().catch(() => {});
});

describe.each<Mode>(MODES)("Todo app in Chromium, AUTH_JWT_MODE=%s", (mode) => {
  let web = "";
  let edge = "";
  const pageErrors: string[] = [];
  const services = testServices(`todo-e2e-${mode}-`, () => {
    if (pageErrors.length) {
      console.log(`[${mode}] browser console errors (the provoked 401/503s are expected):\n` + pageErrors.join("\n"));
    }
  });

  beforeAll(async () => {
    if (mode === "external") {
      web = EXTERNAL_WEB!;
      await services.waitForHttp("web", `${web}/sign-in`, { timeoutMs: 30_000 });
      return; // the edge: whatever the page calls (learnt at the first sign-up)
    }
    const secret = newSecret();
    const webPort = await freePort();
    const edgePort = await freePort();
    web = `http://localhost:${webPort}`;
    edge = `http://127.0.0.1:${edgePort}`;

    // HS256: the edge gets the web's secret. JWKS: no secret at all, only
    // BETTER_AUTH_URL; it fetches ${web}/api/auth/jwks, so it cannot be ready
    // before the web app is up (it starts anyway and becomes ready by itself).
    await startBackend(services, {
      betterAuthSecret: mode === "hs256" ? secret : undefined,
      betterAuthUrl: web,
      mode,
      edgePort,
      waitReady: mode === "hs256",
      extraEdgeEnv: { AUTH_JWKS_REFETCH_COOLDOWN_SECS: "1" },
    });

    const env = webEnv(join(services.dir, "auth.sqlite"), {
      BETTER_AUTH_SECRET: secret, // the web always needs it (sessions; key encryption in JWKS mode)
      BETTER_AUTH_URL: web,
      AUTH_JWT_MODE: mode,
      NEXT_PUBLIC_API_URL: edge,
    });
    await migrate(services, env);
    await startWeb(services, env, { port: webPort });
    await services.waitForHttp("edge", `${edge}/readyz`, { timeoutMs: 30_000 });
  });

  /** Everything a page reported against the CSP, in any context of this mode. */
  const cspViolations: string[] = [];

  /**
   * A browser context whose pages report every CSP violation (the
   * `securitypolicyviolation` event, through a binding that survives
   * navigations) to {@link cspViolations}.
   */
  async function newContext(): Promise<BrowserContext> {
    const ctx = await browser!.newContext();
    await ctx.exposeBinding("__reportCspViolation", ({ page }, violation: string) => {
      cspViolations.push(`${page.url()}: ${violation}`);
    });
    await ctx.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        const report = (window as unknown as { __reportCspViolation: (v: string) => void }).__reportCspViolation;
        report(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    return ctx;
  }

  async function newPage(ctx: BrowserContext, who: string): Promise<Page> {
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (err) => pageErrors.push(`[${who}] ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(`[${who}] console: ${msg.text()}`);
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(`[${who}] console: ${msg.text()}`);
    });
    return page;
  }

  /** A unique e-mail address per run (an external app keeps its users between runs). */
  const uniqueEmail = (name: string) => `${name.toLowerCase()}-${randomUUID()}@example.com`;

  /**
   * Signs a new user up through the pages and lands on the Todo page. Learns
   * the edge's URL from the page's first call to it (with E2E_WEB_URL that is
   * how the test finds the edge; otherwise it must be the one started here).
   */
  async function signUp(page: Page, name: string, email: string, password: string) {
    await page.goto(`${web}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(/\/sign-up/);
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    const listed = page.waitForRequest((r) => r.method() === "GET" && /\/api\/[^/]+\/tasks\?/.test(r.url()));
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(`${web}/`);
    await page.getByRole("heading", { name: "Your tasks" }).waitFor();
    const apiOrigin = new URL((await listed).url()).origin;
    if (mode === "external") edge ||= apiOrigin;
    expect(apiOrigin).toBe(edge);
  }

  /** The signed-in user's JWT, from the web app as the page gets it. */
  function tokenOf(page: Page): Promise<string> {
    return page.evaluate(async () => {
      const res = await fetch("/api/auth/token");
      return ((await res.json()) as { token: string }).token;
    });
  }

  /**
   * The task's title and its date are laid out apart (a task without a
   * description once rendered "Buy milkAdded 11/26/2026…" on one line): the
   * date's box starts below the title's, and the text has a line break.
   */
  async function expectTitleAndDateApart(item: ReturnType<typeof task>) {
    const title = await item.locator(".task-title").boundingBox();
    const date = await item.locator(".task-date").boundingBox();
    expect(title, "title box").not.toBeNull();
    expect(date, "date box").not.toBeNull();
    expect(date!.y, "the date starts below the title").toBeGreaterThanOrEqual(title!.y + title!.height - 0.5);
    expect(await item.locator(".task-body").innerText()).toMatch(/\n\s*Added /);
  }

  async function addTask(page: Page, title: string, description?: string) {
    const form = page.getByRole("form", { name: "Add a task" });
    await form.getByLabel("Title").fill(title);
    if (description) await form.getByLabel("Description").fill(description);
    await form.getByRole("button", { name: "Add task" }).click();
    await page.getByTestId("task").filter({ hasText: title }).waitFor();
    await expectNoError(page);
  }

  async function expectNoError(page: Page) {
    const alert = page.locator(".error[role=alert]");
    if (await alert.count()) throw new Error(`the page shows an error: ${await alert.innerText()}`);
  }

  function task(page: Page, title: string) {
    return page.getByTestId("task").filter({ hasText: title });
  }

  async function titles(page: Page): Promise<string[]> {
    return page.locator("[data-testid=task] .task-title").allInnerTexts();
  }

  let ctxA: BrowserContext;
  let pageA: Page;
  let userA = "";

  it("user A signs up and manages tasks; the state survives a reload", async () => {
    ctxA = await newContext();
    pageA = await newPage(ctxA, "A");
    await signUp(pageA, "Alice", uniqueEmail("alice"), "alice-password-1");
    await pageA.getByTestId("empty").waitFor();

    await addTask(pageA, "Buy milk", "Two litres, semi-skimmed");
    await addTask(pageA, "Write report");
    await addTask(pageA, "Water the plants");
    expect(await titles(pageA)).toEqual(["Buy milk", "Write report", "Water the plants"]);
    await expectTitleAndDateApart(task(pageA, "Write report")); // no description
    await expectTitleAndDateApart(task(pageA, "Buy milk")); // with one

    // Edit title + description.
    await task(pageA, "Write report").getByRole("button", { name: "Edit" }).click();
    const edit = pageA.getByRole("form", { name: /Edit/ });
    await edit.getByLabel("Title").fill("Write quarterly report");
    await edit.getByLabel("Description").fill("Due Friday");
    await edit.getByRole("button", { name: "Save" }).click();
    await task(pageA, "Write quarterly report").getByText("Due Friday").waitFor();

    // Toggle complete.
    // The checkbox is controlled: it flips once the edge confirms the toggle.
    await task(pageA, "Buy milk").getByRole("checkbox").click();
    await pageA.locator("[data-testid=task][data-completed=true]").filter({ hasText: "Buy milk" }).waitFor();

    // Delete.
    await task(pageA, "Water the plants").getByRole("button", { name: "Delete" }).click();
    await task(pageA, "Water the plants").waitFor({ state: "detached" });
    await expectNoError(pageA);

    // Filters.
    await pageA.getByRole("button", { name: "Completed", exact: true }).click();
    await expect.poll(() => titles(pageA)).toEqual(["Buy milk"]);
    await pageA.getByRole("button", { name: "Pending", exact: true }).click();
    await expect.poll(() => titles(pageA)).toEqual(["Write quarterly report"]);
    await pageA.getByRole("button", { name: "All", exact: true }).click();
    await expect.poll(() => titles(pageA)).toEqual(["Buy milk", "Write quarterly report"]);

    // Reload: same state, from the edge.
    await pageA.reload();
    await task(pageA, "Buy milk").waitFor();
    expect(await titles(pageA)).toEqual(["Buy milk", "Write quarterly report"]);
    expect(await task(pageA, "Buy milk").getAttribute("data-completed")).toBe("true");
    expect(await task(pageA, "Write quarterly report").getAttribute("data-completed")).toBe("false");
    await task(pageA, "Buy milk").getByText("Two litres, semi-skimmed").waitFor();
    await task(pageA, "Write quarterly report").getByText("Due Friday").waitFor();

    mkdirSync(RESULTS, { recursive: true });
    await pageA.screenshot({ path: join(RESULTS, mode === "hs256" ? "todo.png" : `todo-${mode}.png`), fullPage: true });

    userA = await pageA.evaluate(async () => {
      const res = await fetch("/api/auth/get-session");
      return ((await res.json()) as { user: { id: string } }).user.id;
    });
    expect(userA).toBeTruthy();
  });

  it("user B sees none of A's tasks and cannot reach A's path; errors show the edge's detail; an expired session goes back to sign-in", async () => {
    const ctxB = await newContext();
    try {
      const pageB = await newPage(ctxB, "B");
      await signUp(pageB, "Bob", uniqueEmail("bob"), "bob-password-1");
      await pageB.getByTestId("empty").waitFor();
      expect(await titles(pageB)).toEqual([]);
      expect(await pageB.getByText("Buy milk").count()).toBe(0);

      // B's own (valid) JWT used on A's path: refused by the edge.
      const tokenB = await tokenOf(pageB);
      const res = await fetch(`${edge}/api/${userA}/tasks`, { headers: { authorization: `Bearer ${tokenB}` } });
      expect(res.status).toBe(403);
      // The browser got the token the server's AUTH_JWT_MODE (read at run time) asks for.
      const header = decodeProtectedHeader(tokenB);
      const jwks = await fetch(`${web}/api/auth/jwks`);
      if (mode === "jwks" || (mode === "external" && header.alg !== "HS256")) {
        if (mode === "jwks") expect(header.alg).toBe("EdDSA");
        expect(jwks.status).toBe(200);
        expect(((await jwks.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)).toContain(header.kid);
      } else {
        expect(header).toEqual({ alg: "HS256", typ: "JWT" });
        expect(jwks.status).toBe(404);
      }

      // A failed call says what happened, with the edge's problem+json detail.
      const problem = (status: number, title: string, detail: string) => ({
        status,
        contentType: "application/problem+json",
        headers: { "access-control-allow-origin": web },
        body: JSON.stringify({ type: "about:blank", title, status, detail }),
      });
      await pageB.route(`${edge}/api/**`, (route) =>
        route.request().method() === "POST"
          ? route.fulfill(problem(503, "Service Unavailable", "The task service is not answering."))
          : route.fallback(),
      );
      const form = pageB.getByRole("form", { name: "Add a task" });
      await form.getByLabel("Title").fill("Will not be saved");
      await form.getByRole("button", { name: "Add task" }).click();
      await pageB.locator(".error[role=alert]", { hasText: "The task service is not answering." }).waitFor();
      await pageB.unrouteAll();
      expect(await form.getByLabel("Title").inputValue()).toBe("Will not be saved"); // input kept for a retry

      // Expired session: the session is revoked on the server, then the edge
      // refuses the cached token; no new token can be had → back to sign-in.
      const cookieB = (await ctxB.cookies(web)).map((c) => `${c.name}=${c.value}`).join("; ");
      const out = await fetch(`${web}/api/auth/sign-out`, {
        method: "POST",
        headers: { cookie: cookieB, origin: web, "content-type": "application/json" },
        body: "{}",
      });
      expect(out.status).toBe(200);
      await pageB.route(`${edge}/api/**`, (route) =>
        route.fulfill(problem(401, "Unauthorized", "The token has expired.")),
      );
      await pageB.getByRole("button", { name: "Pending", exact: true }).click();
      await pageB.waitForURL(/\/sign-in\?expired=1/);
      await pageB.getByText("Your session has expired. Please sign in again.").waitFor();
    } finally {
      await ctxB.close();
    }
  });

  it("pages through more tasks than the edge sends at once: the first 100, then the rest on demand", async () => {
    const ctxC = await newContext();
    try {
      const pageC = await newPage(ctxC, "C");
      await signUp(pageC, "Carol", uniqueEmail("carol"), "carol-password-1");
      await pageC.getByTestId("empty").waitFor();
      const userC = await pageC.evaluate(async () => {
        const res = await fetch("/api/auth/get-session");
        return ((await res.json()) as { user: { id: string } }).user.id;
      });

      // 105 tasks straight through the edge, as another tab or device would add them.
      const token = await tokenOf(pageC);
      const names = Array.from({ length: 105 }, (_, i) => `Chore ${String(i + 1).padStart(3, "0")}`);
      for (const title of names) {
        const res = await fetch(`${edge}/api/${userC}/tasks`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ title }),
        });
        expect(res.status).toBe(201);
      }

      await pageC.reload();
      await task(pageC, "Chore 100").waitFor();
      expect(await titles(pageC)).toEqual(names.slice(0, 100));
      const more = pageC.getByTestId("more");
      await more.getByText("Showing the first 100 tasks; there are more.").waitFor();
      mkdirSync(RESULTS, { recursive: true });
      await pageC.screenshot({ path: join(RESULTS, `todo-paged-${mode}.png`) }); // the top: tasks without a description
      await expectTitleAndDateApart(task(pageC, "Chore 001"));

      await more.screenshot({ path: join(RESULTS, `load-more-${mode}.png`) });

      // Added here before the last page is loaded: shown at the end at once, and still once after loading.
      await addTask(pageC, "Chore 106");
      expect((await titles(pageC)).slice(-2)).toEqual(["Chore 100", "Chore 106"]);

      await more.getByRole("button", { name: "Load more" }).click();
      await task(pageC, "Chore 105").waitFor();
      await more.waitFor({ state: "detached" }); // nothing more to load
      expect(await titles(pageC)).toEqual([...names, "Chore 106"]);
      await expectNoError(pageC);

      // A reload starts again from the first page.
      await pageC.reload();
      await task(pageC, "Chore 001").waitFor();
      expect(await titles(pageC)).toHaveLength(100);
    } finally {
      await ctxC.close();
    }
  });

  it("every page works under the CSP: its scripts run, the password rule shows", async () => {
    const ctx = await newContext();
    try {
      const page = await newPage(ctx, "tour");
      for (const path of ["/sign-in", "/sign-in?expired=1", "/sign-in?signedOut=1", "/sign-up", "/no-such-page"]) {
        const res = await page.goto(web + path);
        expect(res?.headers()["content-security-policy"], path).toContain("frame-ancestors 'none'");
        await page.locator("h1").first().waitFor();
      }
      // The forms are handled by the page's own scripts (were they refused, the
      // browser would submit the form itself and show no message).
      await page.goto(`${web}/sign-in`);
      await page.getByLabel("Email").fill(uniqueEmail("nobody"));
      await page.getByLabel("Password").fill("not-the-password-1");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("Wrong email or password.").waitFor();

      // The password rule is stated where the password is chosen (no sign-up
      // here: Better Auth allows 3 per 10 s from one address, the scenario's own).
      await page.goto(`${web}/sign-up`);
      const rule = page.getByText("At least 12 characters, not only spaces, and not a common password.");
      expect(await rule.getAttribute("id")).toBe(await page.getByLabel("Password").getAttribute("aria-describedby"));
    } finally {
      await ctx.close();
    }
  });

  it("no other page can frame the app (frame-ancestors 'none', X-Frame-Options DENY)", async () => {
    // A same-site page (localhost, another port) that frames the app.
    const framer = createServer((_req, res) => {
      res.setHeader("content-type", "text/html");
      res.end(
        `<!doctype html><title>framer</title><iframe id="app" src="${web}/sign-in" width="800" height="600"></iframe>`,
      );
    });
    await new Promise<void>((ok) => framer.listen(0, "127.0.0.1", ok));
    const ctx = await browser!.newContext(); // its refused frame is expected: not counted as a violation
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(15_000);
      const port = (framer.address() as { port: number }).port;
      const framed = page.waitForResponse((r) => r.url().startsWith(`${web}/sign-in`));
      await page.goto(`http://localhost:${port}/`);
      expect((await framed).status()).toBe(200); // the app answered; the browser must not show it
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame, "the iframe").toBeTruthy();
      await expect
        .poll(async () => frame!.evaluate(() => document.body?.innerText ?? "").catch(() => ""))
        .not.toContain("Sign in");
      expect(await frame!.locator("form").count()).toBe(0);
    } finally {
      await ctx.close();
      await new Promise<void>((ok) => framer.close(() => ok()));
    }
  });

  it("after sign-out in one tab, every tab leaves the Todo page and the old session is refused", async () => {
    const cookieHeader = (await ctxA.cookies(web)).map((c) => `${c.name}=${c.value}`).join("; ");
    expect(cookieHeader).toContain("session_token");
    const before = await fetch(`${web}/api/auth/token`, { headers: { cookie: cookieHeader } });
    expect(before.status).toBe(200);

    // A second tab of the same user, with its own token, calling the edge.
    const otherTab = await newPage(ctxA, "A, tab 2");
    const loaded = otherTab.waitForResponse((r) => r.url().startsWith(`${edge}/api/`) && r.status() === 200);
    await otherTab.goto(`${web}/`);
    await task(otherTab, "Buy milk").waitFor();
    await loaded;

    await pageA.getByRole("button", { name: "Sign out", exact: true }).click();
    await pageA.waitForURL(/\/sign-in/);
    await pageA.getByText("You have been signed out.").waitFor();
    expect(await pageA.getByTestId("task").count()).toBe(0);

    // The other tab was told: it dropped its token and went to sign-in, by itself.
    await otherTab.waitForURL(/\/sign-in\?signedOut=1/);
    await otherTab.getByText("You have been signed out.").waitFor();
    expect(await otherTab.getByTestId("task").count()).toBe(0);

    await pageA.goto(`${web}/`);
    await pageA.waitForURL(/\/sign-in/);
    expect(await pageA.getByTestId("task").count()).toBe(0);

    // The old session cookie no longer gets a token …
    const after = await fetch(`${web}/api/auth/token`, { headers: { cookie: cookieHeader } });
    expect(after.status).toBe(401);
    // … and the edge refuses anything without a valid token.
    const none = await fetch(`${edge}/api/${userA}/tasks`);
    expect(none.status).toBe(401);
    const forged = await fetch(`${edge}/api/${userA}/tasks`, { headers: { authorization: "Bearer not.a.jwt" } });
    expect(forged.status).toBe(401);

    await ctxA.close();
    // Only the failures provoked above (401s, the forced 503, the page that does not exist) may show in the console.
    expect(pageErrors.filter((e) => !/\b(401|404|503)\b|Unauthorized|favicon/.test(e))).toEqual([]);
  });

  it("nothing in this run broke the Content Security Policy", () => {
    expect(cspViolations).toEqual([]);
  });
});
