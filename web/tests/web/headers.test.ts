/**
 * Against the production build (`next start`): the security headers. Pages
 * carry a strict CSP with a fresh nonce on every response (on Next's own
 * scripts too), naming the edge in `connect-src`; every response says
 * X-Frame-Options DENY, nosniff and a Referrer-Policy; HSTS only when
 * BETTER_AUTH_URL is https. (That the app works under the CSP, with no
 * violation, is the browser test's part: tests/e2e.)
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Services, newSecret } from "../support/services";
import { migrate, startWeb, webEnv } from "../support/web";

const services = new Services("todo-web-headers-");
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});
afterAll(() => services.stop({ failed }));

const EDGE = "http://127.0.0.1:18080";
let web = "";
let httpsApp = "";

beforeAll(async () => {
  const env = webEnv(join(services.dir, "auth.sqlite"), { BETTER_AUTH_SECRET: newSecret(), NEXT_PUBLIC_API_URL: EDGE });
  await migrate(services, env);
  ({ url: web } = await startWeb(services, env));
  // Served over http here, but configured as the https origin a TLS proxy would present.
  ({ url: httpsApp } = await startWeb(
    services,
    { ...env, BETTER_AUTH_URL: "https://todo.example.test" },
    { name: "web-https" },
  ));
});

/** The CSP's directives by name. */
function directives(csp: string | null): Record<string, string[]> {
  expect(csp, "a Content-Security-Policy header").toBeTruthy();
  return Object.fromEntries(
    csp!
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

const PAGES = ["/sign-in", "/sign-up", "/sign-in?expired=1", "/no-such-page"];

describe("pages", () => {
  it.each(PAGES)("%s has a strict CSP whose nonce is on every script", async (path) => {
    const res = await fetch(web + path, { redirect: "manual" });
    const csp = directives(res.headers.get("content-security-policy"));
    const nonce = csp["script-src"]!.find((v) => v.startsWith("'nonce-"))?.slice(7, -1);
    expect(nonce, "a nonce in script-src").toBeTruthy();
    expect(csp["script-src"]).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"]);
    expect(csp["style-src"]).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(csp["default-src"]).toEqual(["'self'"]);
    expect(csp["connect-src"]).toEqual(["'self'", EDGE]);
    expect(csp["object-src"]).toEqual(["'none'"]);
    expect(csp["base-uri"]).toEqual(["'none'"]);
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp["upgrade-insecure-requests"]).toBeUndefined(); // http: it would break the http edge
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.headers.get("strict-transport-security")).toBeNull();

    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  });

  it("a new nonce on every response", async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const csp = (await fetch(`${web}/sign-in`)).headers.get("content-security-policy") ?? "";
      nonces.add(/'nonce-([^']+)'/.exec(csp)?.[1] ?? "");
    }
    expect(nonces.size).toBe(3);
  });

  it("a client's own CSP request header does not choose the nonce", async () => {
    const res = await fetch(`${web}/sign-in`, {
      headers: { "content-security-policy": "script-src 'nonce-attacker'" },
    });
    const csp = res.headers.get("content-security-policy");
    expect(csp).toMatch(/'nonce-[A-Za-z0-9+/=]{16,}'/);
    expect(csp).not.toContain("attacker");
    expect(await res.text()).not.toContain("attacker");
  });
});

describe("other responses", () => {
  it("assets and the auth API are not framable or sniffable either", async () => {
    const html = await (await fetch(`${web}/sign-in`)).text();
    const asset = /\/_next\/static\/[^"]+\.js/.exec(html)?.[0];
    expect(asset).toBeTruthy();
    for (const path of [asset!, "/api/auth/ok", "/api/auth/token"]) {
      const res = await fetch(web + path);
      expect([path, res.headers.get("x-frame-options"), res.headers.get("x-content-type-options")]).toEqual([
        path,
        "DENY",
        "nosniff",
      ]);
    }
  });
});

describe("BETTER_AUTH_URL https", () => {
  it("adds HSTS (pages and auth API) and upgrade-insecure-requests", async () => {
    const page = await fetch(`${httpsApp}/sign-in`);
    expect(page.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expect(directives(page.headers.get("content-security-policy"))["upgrade-insecure-requests"]).toEqual([]);
    const api = await fetch(`${httpsApp}/api/auth/ok`);
    expect(api.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
  });
});
