/**
 * Interop: what the REAL Rust edge says when it refuses what the REAL Better
 * Auth issued for something else, or configured otherwise (issue 13):
 *
 * - the session token and the signed session cookie value: "session token";
 * - the session cookie cache (jwt plugin's `sessionCookieCache`): never accepted;
 * - another `iss` (a trailing slash too) or `aud`: expected and received;
 * - a numeric `expirationTime`: "absolute time … '15m'";
 * - `getSubject` returning the e-mail: 403 with the hint;
 * - an HS256 token at an edge in `jwks` mode: names the mode.
 *
 * Every Better Auth instance here shares one database and secret, so they
 * sign with the same published EdDSA key: the edge gets past the signature
 * and judges the claims. The `error=` code stays RFC 6750's `invalid_token`.
 */
import { betterAuth } from "better-auth";
import { jwt, type JwtOptions } from "better-auth/plugins";
import { beforeAll, describe, expect, it } from "vitest";
import { createAuthOptions, tokenPayload } from "@/lib/auth-options";
import { getToken, makeAuth, memoryDb, serveAuth, signUp, type HttpServed } from "../support/auth";
import { freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";

const servers: HttpServed[] = [];
const services = testServices("todo-interop-details-", () => Promise.all(servers.map((s) => s.close())));

const SECRET = newSecret();
const db = memoryDb();
let origin = "";
let edge = "";
let user = { userId: "", cookie: "" };

/** A Better Auth on the shared database whose jwt plugin has these options (and `session` settings). */
function variant(jwtOptions: Partial<JwtOptions["jwt"]>, extra: { cookieCache?: boolean } = {}) {
  const base = createAuthOptions({ secret: SECRET, baseURL: origin, mode: "jwks", database: db });
  const plugin = jwt({
    jwt: { issuer: origin, audience: origin, expirationTime: "15m", definePayload: tokenPayload, ...jwtOptions },
    jwks: { keyPairConfig: { alg: "EdDSA" } },
    ...(extra.cookieCache ? { sessionCookieCache: true } : {}),
  });
  // Typed as the app's options: only the jwt plugin's options (and `session`) differ.
  return betterAuth({
    ...base,
    ...(extra.cookieCache
      ? { session: { cookieCache: { enabled: true, strategy: "jwt" as const, maxAge: 300 } } }
      : {}),
    plugins: [plugin, ...base.plugins.slice(1)],
  } as unknown as typeof base);
}

async function refusal(token: string, path = `/api/${user.userId}/tasks`) {
  const res = await fetch(edge + path, { headers: { authorization: `Bearer ${token}` } });
  const challenge = res.headers.get("www-authenticate") ?? "";
  const problem = (await res.json()) as { detail?: string };
  return { status: res.status, challenge, detail: problem.detail ?? "" };
}

async function expect401(token: string, detail: RegExp) {
  const r = await refusal(token);
  expect(r.status, r.detail).toBe(401);
  expect(r.challenge).toContain('error="invalid_token"');
  expect(r.detail).toMatch(detail);
  // The credential itself is never echoed.
  expect(r.detail).not.toContain(token);
  expect(r.challenge).not.toContain(token);
  return r;
}

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  const auth = variant({});
  servers.push(await serveAuth(auth, port));
  user = await signUp(auth, "dana@example.com", "Dana");
  // Mint the key pair once, before the edge fetches the set.
  await getToken(auth, user.cookie);
  edge = (await startBackend(services, { betterAuthUrl: origin, mode: "jwks", label: "details" })).edgeUrl;
});

describe("credentials Better Auth issues for something else", () => {
  it("names a session token and a signed session cookie value as such", async () => {
    const cookieValue = /better-auth\.session_token=([^;]+)/.exec(user.cookie)?.[1] ?? "";
    expect(cookieValue).toContain(".");
    const sessionToken = decodeURIComponent(cookieValue).split(".")[0]!;
    for (const sent of [sessionToken, cookieValue, decodeURIComponent(cookieValue)]) {
      await expect401(sent, /Better Auth session token.*\/api\/auth\/token/);
    }
  });

  it("refuses the jwt plugin's session cookie cache, saying what it is", async () => {
    const cached = variant({}, { cookieCache: true });
    const { headers } = await cached.api.signInEmail({
      body: { email: "dana@example.com", password: "correct-horse-battery" },
      returnHeaders: true,
    });
    const data = headers
      .getSetCookie()
      .map((c) => /better-auth\.session_data=([^;]+)/.exec(c)?.[1])
      .find(Boolean);
    expect(data, "a session_data cookie").toBeTruthy();
    await expect401(decodeURIComponent(data!), /session cookie cache.*never accepted/);
  });
});

describe("tokens configured otherwise in Better Auth", () => {
  async function tokenFrom(options: Partial<JwtOptions["jwt"]>) {
    return getToken(variant(options), user.cookie);
  }

  it("shows the expected and the received issuer, and a trailing slash", async () => {
    const other = await expect401(await tokenFrom({ issuer: "https://auth.example.com" }), /issuer is not accepted/);
    expect(other.detail).toContain(`expected '${origin}', received 'https://auth.example.com'`);
    const slash = await expect401(await tokenFrom({ issuer: `${origin}/` }), /issuer/);
    expect(slash.detail).toMatch(/differ only by a trailing slash/);
  });

  it("shows the expected and the received audiences", async () => {
    const r = await expect401(await tokenFrom({ audience: ["https://api.example.com", "todo"] }), /audience/);
    expect(r.detail).toContain(`expected '${origin}', received 'https://api.example.com', 'todo'`);
  });

  it("explains a numeric expirationTime (an absolute time in Better Auth)", async () => {
    await expect401(await tokenFrom({ expirationTime: 900 }), /absolute time.*'15m'/);
  });

  it("hints at getSubject when sub is the e-mail (403 on the user's id path)", async () => {
    const token = await tokenFrom({ getSubject: (session) => session.user.email });
    const r = await refusal(token);
    expect(r.status).toBe(403);
    expect(r.detail).toMatch(/e-mail address.*getSubject/);
  });

  it("names the server's mode for an HS256 token", async () => {
    const hs = makeAuth({ secret: SECRET, baseURL: origin, mode: "hs256" });
    const h = await signUp(hs, "hal@example.com", "Hal");
    await expect401(await getToken(hs, h.cookie), /HS256.*jwks mode/);
  });
});

describe("AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE at the edge", () => {
  it("accepts what Better Auth's jwt.issuer and jwt.audience produce (aud an array)", async () => {
    const issuer = "https://auth.example.com";
    const token = await getToken(variant({ issuer, audience: ["https://api.example.com", "todo"] }), user.cookie);
    const configured = (
      await startBackend(services, {
        betterAuthUrl: origin,
        mode: "jwks",
        label: "claims",
        extraEdgeEnv: { AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: "todo-edge, todo" },
      })
    ).edgeUrl;
    const res = await fetch(`${configured}/api/${user.userId}/tasks`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
