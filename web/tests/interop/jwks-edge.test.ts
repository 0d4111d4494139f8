/**
 * Interop, JWKS mode: tokens signed by the REAL Better Auth with its own
 * EdDSA keys (AUTH_JWT_MODE=jwks on the web side), served over HTTP so the
 * Rust edge fetches ${BETTER_AUTH_URL}/api/auth/jwks itself; the edge runs in
 * AUTH_JWT_MODE=jwks with no BETTER_AUTH_SECRET at all.
 *
 * The edge is started BEFORE the web app answers (as after a joint restart):
 * it must say "not ready" (503), answer requests with a token 503 (never a 401
 * that would make a client discard a good token), then become ready by itself
 * once the JWKS can be fetched.
 *
 * Other algorithms, ES512, `both` mode: jwks-algorithms.test.ts; key
 * rotation: jwks-rotation.test.ts.
 */
import { decodeProtectedHeader } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getToken, makeAuth, serveAuth, signUp, type HttpServed } from "../support/auth";
import { Services, freePort, newSecret, startBackend } from "../support/services";

const services = new Services("todo-interop-jwks-");
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});
let server: HttpServed | undefined;
let port = 0;
let origin = "";
let edge = "";
let auth: ReturnType<typeof makeAuth>;
let alice: { userId: string; token: string };
let bob: { userId: string; token: string };

beforeAll(async () => {
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  auth = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });

  const a = await signUp(auth, "alice@example.com", "Alice");
  alice = { userId: a.userId, token: await getToken(auth, a.cookie) };
  const b = await signUp(auth, "bob@example.com", "Bob");
  bob = { userId: b.userId, token: await getToken(auth, b.cookie) };
  expect(decodeProtectedHeader(alice.token).alg).toBe("EdDSA");

  // Nothing listens on `origin` yet: the edge starts without its keys.
  edge = (
    await startBackend(services, {
      betterAuthUrl: origin,
      mode: "jwks",
      waitReady: false,
      extraEdgeEnv: { AUTH_JWKS_REFETCH_COOLDOWN_SECS: "1" },
    })
  ).edgeUrl;
});

afterAll(async () => {
  await services.stop({ failed });
  await server?.close();
});

function call(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(edge + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe("JWKS-mode tokens from Better Auth at the Rust edge", () => {
  it("is not ready, and answers 503 to a token, until the JWKS can be fetched; then ready by itself", async () => {
    const early = await fetch(`${edge}/readyz`);
    expect(early.status).toBe(503);
    expect(JSON.stringify(await early.json())).toMatch(/JWKS/);
    const res = await call("GET", `/api/${alice.userId}/tasks`, alice.token);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/problem+json");

    // The web side comes up: the key set the edge will fetch, over real HTTP.
    server = await serveAuth(auth, port);
    const jwks = (await (await fetch(`${origin}/api/auth/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([decodeProtectedHeader(alice.token).kid]);
    await services.waitForHttp("edge", `${edge}/readyz`, { timeoutMs: 15_000 });
    expect(server.jwksFetches()).toBeGreaterThanOrEqual(2); // ours above + the edge's
  });

  it("accepts the EdDSA token for the user's own path", async () => {
    const res = await call("POST", `/api/${alice.userId}/tasks`, alice.token, { title: "Signed with EdDSA" });
    expect(res.status, await res.clone().text()).toBe(201);
    const list = await call("GET", `/api/${alice.userId}/tasks`, alice.token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual(["Signed with EdDSA"]);
  });

  it("refuses it for another user's path with 403", async () => {
    expect((await call("GET", `/api/${bob.userId}/tasks`, alice.token)).status).toBe(403);
    expect((await call("GET", `/api/${bob.userId}/tasks`, bob.token)).status).toBe(200);
  });

  it("does not fetch the JWKS again for every request", async () => {
    const before = server!.jwksFetches();
    for (let i = 0; i < 5; i++) expect((await call("GET", `/api/${alice.userId}/tasks`, alice.token)).status).toBe(200);
    expect(server!.jwksFetches()).toBe(before);
  });

  it("refuses a token signed by another key pair (same issuer) with 401", async () => {
    const impostor = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    const { userId, cookie } = await signUp(impostor, "mallory@example.com");
    const res = await call("GET", `/api/${userId}/tasks`, await getToken(impostor, cookie));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate") ?? "").toContain('error="invalid_token"');
  });

  it("refuses an HS256 token (the edge holds no secret in this mode) with 401", async () => {
    const hs = makeAuth({ secret: newSecret(), baseURL: origin, mode: "hs256" });
    const { userId, cookie } = await signUp(hs, "hs@example.com");
    const res = await call("GET", `/api/${userId}/tasks`, await getToken(hs, cookie));
    expect(res.status).toBe(401);
  });
});
