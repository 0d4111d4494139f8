/**
 * Interop, JWKS mode: tokens signed by the REAL Better Auth with its own
 * EdDSA keys (AUTH_JWT_MODE=jwks on the web side), served over HTTP so the
 * Rust edge fetches ${BETTER_AUTH_URL}/api/auth/jwks itself; the edge runs in
 * AUTH_JWT_MODE=jwks with no BETTER_AUTH_SECRET at all.
 *
 * One edge is started BEFORE the web app answers (as after a joint restart):
 * it must say "not ready" (503), answer requests with a token 503 (never a 401
 * that would make a client discard a good token), then become ready by itself
 * once the JWKS can be fetched. The other tests use a second edge started
 * after the web app, so none of them depends on another.
 *
 * Other algorithms, ES512, `both` mode: jwks-algorithms.test.ts; key
 * rotation: jwks-rotation.test.ts.
 */
import { decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { getToken, makeAuth, newUser, serveAuth, signUp, type HttpServed } from "../support/auth";
import { callEdge, freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";

const servers: HttpServed[] = [];
const services = testServices("todo-interop-jwks-", () => Promise.all(servers.map((s) => s.close())));

/** The edge's settings for these tests: a 1 s refetch cooldown (default 30 s). */
const EDGE_ENV = { AUTH_JWKS_REFETCH_COOLDOWN_SECS: "1" };

describe("an edge started before the web app", () => {
  it("is not ready, and answers 503 to a token, until the JWKS can be fetched; then ready by itself", async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const auth = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    const alice = await newUser(auth, "Alice");
    expect(decodeProtectedHeader(alice.token).alg).toBe("EdDSA");

    // Nothing listens on `origin` yet: the edge starts without its keys.
    const { edgeUrl: edge, edgeAdminAddr } = await startBackend(services, {
      betterAuthUrl: origin,
      mode: "jwks",
      label: "early",
      waitReady: false,
      extraEdgeEnv: EDGE_ENV,
    });
    const early = await fetch(`${edge}/readyz`);
    expect(early.status).toBe(503);
    // In public only "not ready"; the reason is on the admin listener.
    expect(await early.json()).toEqual({ status: "not ready" });
    const details = await fetch(`http://${edgeAdminAddr}/readyz`);
    expect(details.status).toBe(503);
    expect(JSON.stringify(await details.json())).toMatch(/JWKS/);
    const res = await callEdge(edge, "GET", `/api/${alice.userId}/tasks`, alice.token);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/problem+json");

    // The web side comes up: the key set the edge will fetch, over real HTTP.
    const server = await serveAuth(auth, port);
    servers.push(server);
    const jwks = (await (await fetch(`${origin}/api/auth/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([decodeProtectedHeader(alice.token).kid]);
    await services.waitForHttp("edge-early", `${edge}/readyz`, { timeoutMs: 15_000 });
    expect(server.jwksFetches()).toBeGreaterThanOrEqual(2); // ours above + the edge's
    const after = await callEdge(edge, "GET", `/api/${alice.userId}/tasks`, alice.token);
    expect(after.status).toBe(200);
  });
});

describe("JWKS-mode tokens from Better Auth at the Rust edge", () => {
  let server: HttpServed;
  let origin = "";
  let edge = "";
  let auth: ReturnType<typeof makeAuth>;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    auth = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    server = await serveAuth(auth, port);
    servers.push(server);
    await newUser(auth, "First"); // Better Auth creates its key pair with the first token
    edge = (await startBackend(services, { betterAuthUrl: origin, mode: "jwks", extraEdgeEnv: EDGE_ENV })).edgeUrl;
  });

  it("accepts the EdDSA token for the user's own path", async () => {
    const alice = await newUser(auth, "Alice");
    expect(decodeProtectedHeader(alice.token).alg).toBe("EdDSA");
    const res = await callEdge(edge, "POST", `/api/${alice.userId}/tasks`, alice.token, { title: "Signed with EdDSA" });
    expect(res.status, await res.clone().text()).toBe(201);
    const list = await callEdge(edge, "GET", `/api/${alice.userId}/tasks`, alice.token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual(["Signed with EdDSA"]);
  });

  it("refuses it for another user's path with 403", async () => {
    const [alice, bob] = await Promise.all([newUser(auth, "Alice"), newUser(auth, "Bob")]);
    expect((await callEdge(edge, "GET", `/api/${bob.userId}/tasks`, alice.token)).status).toBe(403);
    expect((await callEdge(edge, "GET", `/api/${bob.userId}/tasks`, bob.token)).status).toBe(200);
  });

  it("does not fetch the JWKS again for every request", async () => {
    const alice = await newUser(auth, "Alice");
    const before = server.jwksFetches();
    for (let i = 0; i < 5; i++) {
      expect((await callEdge(edge, "GET", `/api/${alice.userId}/tasks`, alice.token)).status).toBe(200);
    }
    expect(server.jwksFetches()).toBe(before);
  });

  it("refuses a token signed by another key pair (same issuer) with 401", async () => {
    const impostor = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    const { userId, cookie } = await signUp(impostor, "mallory@example.com");
    const res = await callEdge(edge, "GET", `/api/${userId}/tasks`, await getToken(impostor, cookie));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate") ?? "").toContain('error="invalid_token"');
  });

  it("refuses an HS256 token (the edge holds no secret in this mode) with 401", async () => {
    const hs = makeAuth({ secret: newSecret(), baseURL: origin, mode: "hs256" });
    const { userId, cookie } = await signUp(hs, "hs@example.com");
    const res = await callEdge(edge, "GET", `/api/${userId}/tasks`, await getToken(hs, cookie));
    expect(res.status).toBe(401);
  });
});
