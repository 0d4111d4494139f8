/**
 * Browser end-to-end, ended sessions (issue 15): Chromium (playwright-core)
 * against the production Next build and the Rust edge + tasks, with the
 * revocation feed on (AUTH_REVOCATION_SECRET on web and edge), HS256.
 *
 * One user, two browsers (two contexts: two sessions). Tab A's JWT is copied;
 * A signs out → within 2 s that JWT gets 401 at the edge while B keeps
 * working. Then "Sign out everywhere" in B ends both sessions.
 *
 * Env: as todo.e2e.test.ts (EDGE_BIN, TASKS_BIN, CHROMIUM_PATH, E2E_REBUILD).
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";
import { migrate, startWeb, webEnv } from "../support/web";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ENDED = "invalid token: the session was ended (signed out or revoked)";
/** The promise: an ended session's tokens are refused within this. */
const WITHIN_MS = 2_000;
const PASSWORD = "correct-horse-battery-staple";

const services = testServices("todo-e2e-sign-out-");
let browser: Browser | undefined;
let web = "";
let edge = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
  const secret = newSecret();
  const feedSecret = newSecret();
  const webPort = await freePort();
  const edgePort = await freePort();
  web = `http://localhost:${webPort}`;
  edge = `http://127.0.0.1:${edgePort}`;
  // The edge is not ready until it has the list of ended sessions from web.
  await startBackend(services, {
    betterAuthSecret: secret,
    betterAuthUrl: web,
    edgePort,
    waitReady: false,
    extraEdgeEnv: {
      AUTH_REVOCATION_SECRET: feedSecret,
      AUTH_REVOCATION_URL: `${web}/api/internal/revocations`,
    },
  });
  const env = webEnv(join(services.dir, "auth.sqlite"), {
    BETTER_AUTH_SECRET: secret,
    BETTER_AUTH_URL: web,
    NEXT_PUBLIC_API_URL: edge,
    AUTH_REVOCATION_SECRET: feedSecret,
  });
  await migrate(services, env);
  await startWeb(services, env, { port: webPort });
  await services.waitForHttp("edge", `${edge}/readyz`, { timeoutMs: 30_000 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});

afterAll(async () => {
  await browser?.close().catch(() => {});
});

async function newPage(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** Fills the sign-up or sign-in form and lands on the Todo page. */
async function enter(page: Page, form: "sign-up" | "sign-in", email: string) {
  await page.goto(`${web}/${form}`);
  if (form === "sign-up") await page.getByLabel("Name").fill("Erin");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: form === "sign-up" ? "Sign up" : "Sign in" }).click();
  await page.waitForURL(`${web}/`);
  await page.getByRole("heading", { name: "Your tasks" }).waitFor();
}

/** The page's JWT, as the app gets it (copied out of the tab). */
function tokenOf(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const res = await fetch("/api/auth/token");
    return ((await res.json()) as { token: string }).token;
  });
}

const listWith = (token: string) =>
  fetch(`${edge}/api/${decodeJwt(token).sub}/tasks`, { headers: { authorization: `Bearer ${token}` } });

/** Polls the edge with `token` until it answers 401; how long after `since` that was. */
async function refusedAfter(token: string, since: number): Promise<number> {
  for (;;) {
    const res = await listWith(token);
    if (res.status === 401) {
      expect(((await res.json()) as { detail: string }).detail).toBe(ENDED);
      return Date.now() - since;
    }
    expect(res.status).toBe(200);
    if (Date.now() - since > 30_000) throw new Error("the edge still accepts the token after 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("signing out ends the session at the edge at once", () => {
  const email = `erin-${randomUUID()}@example.com`;
  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let pageA: Page;
  let pageB: Page;

  it("sign-out in A: A's copied JWT gets 401 within 2 s, B keeps working", async () => {
    ctxA = await browser!.newContext();
    ctxB = await browser!.newContext();
    pageA = await newPage(ctxA);
    pageB = await newPage(ctxB);
    await enter(pageA, "sign-up", email);
    await enter(pageB, "sign-in", email);
    const [tokenA, tokenB] = [await tokenOf(pageA), await tokenOf(pageB)];
    expect(decodeJwt(tokenA).sid).not.toBe(decodeJwt(tokenB).sid);
    expect((await listWith(tokenA)).status).toBe(200);

    await pageA.getByRole("button", { name: "Sign out", exact: true }).click();
    await pageA.waitForURL(/\/sign-in/);
    const took = await refusedAfter(tokenA, Date.now());
    expect(took).toBeLessThan(WITHIN_MS);

    expect((await listWith(tokenB)).status).toBe(200);
    const form = pageB.getByRole("form", { name: "Add a task" });
    await form.getByLabel("Title").fill("Still signed in");
    await form.getByRole("button", { name: "Add task" }).click();
    await pageB.getByTestId("task").filter({ hasText: "Still signed in" }).waitFor();
  });

  it('"Sign out everywhere" in B ends both sessions', async () => {
    await enter(pageA, "sign-in", email);
    const [tokenA, tokenB] = [await tokenOf(pageA), await tokenOf(pageB)];
    expect((await listWith(tokenA)).status).toBe(200);

    await pageB.getByRole("button", { name: "Sign out everywhere" }).click();
    await pageB.waitForURL(/\/sign-in/);
    const since = Date.now();
    expect(await refusedAfter(tokenB, since)).toBeLessThan(WITHIN_MS);
    expect(await refusedAfter(tokenA, since)).toBeLessThan(WITHIN_MS);
    // A's browser has no session any more either: the next page load goes to sign-in.
    await pageA.goto(`${web}/`);
    await pageA.waitForURL(/\/sign-in/);
    await ctxA.close();
    await ctxB.close();
  });
});
