/**
 * Interop, JWKS mode, every algorithm Better Auth's jwt plugin offers
 * (`jwks.keyPairConfig.alg`): tokens signed by the REAL Better Auth, built by
 * the app's own options (AUTH_JWKS_ALG read by the app's own env parser),
 * served over HTTP; the REAL Rust edge (+ tasks) fetches the JWKS itself.
 *
 * - EdDSA, ES256, RS256, PS256: accepted (201/200 on the user's own path,
 *   403 on another's).
 * - ES512: Better Auth offers it, the Rust JWT library has none: refused with
 *   401 naming ES512, and `/readyz` lists the key under `warnings`.
 * - AUTH_JWT_MODE=both: one edge, given the secret AND the JWKS URL, accepts
 *   an HS256 token from an HS256-mode app and an EdDSA token from a
 *   JWKS-mode app (same BETTER_AUTH_URL).
 */
import { decodeProtectedHeader } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { jwksSettingsFromEnv } from "@/lib/auth";
import { SUPPORTED_JWKS_ALGS } from "@/lib/auth-options";
import { getToken, makeAuth, serveAuth, signUp, type HttpServed } from "../support/auth";
import { Services, freePort, newSecret, startBackend } from "../support/services";

const services = new Services("todo-interop-jwks-algs-");
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});
const servers: HttpServed[] = [];
afterAll(async () => {
  await services.stop({ failed });
  await Promise.all(servers.map((s) => s.close()));
});

/** The edge's settings for these tests: a 1 s refetch cooldown (default 30 s). */
const EDGE_ENV = { AUTH_JWKS_REFETCH_COOLDOWN_SECS: "1" };

function call(edge: string, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(edge + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Better Auth configured exactly as the app would be with AUTH_JWT_MODE=jwks and AUTH_JWKS_ALG=`alg`. */
function authFromEnv(alg: string, origin: string) {
  vi.stubEnv("AUTH_JWKS_ALG", alg);
  try {
    return makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks", jwks: jwksSettingsFromEnv() });
  } finally {
    vi.unstubAllEnvs();
  }
}

const KEY_SHAPE: Record<(typeof SUPPORTED_JWKS_ALGS)[number], Record<string, string>> = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
  RS256: { kty: "RSA" },
  PS256: { kty: "RSA" },
};

describe.each(SUPPORTED_JWKS_ALGS)(
  "AUTH_JWKS_ALG=%s: Better Auth's tokens at the Rust edge (AUTH_JWT_MODE=jwks)",
  (alg) => {
    let edge = "";
    let origin = "";
    let alice: { userId: string; token: string };
    let bob: { userId: string; token: string };

    beforeAll(async () => {
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      const auth = authFromEnv(alg, origin);
      servers.push(await serveAuth(auth, port));

      const a = await signUp(auth, "alice@example.com", "Alice");
      alice = { userId: a.userId, token: await getToken(auth, a.cookie) };
      const b = await signUp(auth, "bob@example.com", "Bob");
      bob = { userId: b.userId, token: await getToken(auth, b.cookie) };

      const header = decodeProtectedHeader(alice.token);
      expect(header.alg).toBe(alg);
      expect(header.kid).toBeTruthy();
      const jwks = (await (await fetch(`${origin}/api/auth/jwks`)).json()) as { keys: Array<Record<string, string>> };
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ ...KEY_SHAPE[alg], alg, kid: header.kid });

      // No secret at all on the edge: it only has Better Auth's public keys.
      edge = (await startBackend(services, { betterAuthUrl: origin, mode: "jwks", label: alg, extraEdgeEnv: EDGE_ENV }))
        .edgeUrl;
    });

    it(`accepts the ${alg} token on the user's own path (201, 200) and refuses it on another's (403)`, async () => {
      const res = await call(edge, "POST", `/api/${alice.userId}/tasks`, alice.token, { title: `Signed with ${alg}` });
      expect(res.status, await res.clone().text()).toBe(201);
      const list = await call(edge, "GET", `/api/${alice.userId}/tasks`, alice.token);
      expect(list.status).toBe(200);
      expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual([`Signed with ${alg}`]);

      expect((await call(edge, "GET", `/api/${bob.userId}/tasks`, alice.token)).status).toBe(403);
      expect((await call(edge, "POST", `/api/${bob.userId}/tasks`, alice.token, { title: "sneaky" })).status).toBe(403);
      expect((await call(edge, "GET", `/api/${bob.userId}/tasks`, bob.token)).status).toBe(200);
    });

    it(`refuses a ${alg} token signed by another Better Auth key pair (same issuer) with 401`, async () => {
      const impostor = authFromEnv(alg, origin);
      const { userId, cookie } = await signUp(impostor, "mallory@example.com");
      const res = await call(edge, "GET", `/api/${userId}/tasks`, await getToken(impostor, cookie));
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate") ?? "").toContain('error="invalid_token"');
    });
  },
);

describe("ES512 (offered by Better Auth; the backend cannot verify it)", () => {
  let edge = "";
  let user: { userId: string; token: string };

  beforeAll(async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    // The app's env parser refuses ES512 outright (see the unit tests); a
    // Better Auth configured with it anyway (or an old ES512 key still
    // signing) is what the edge must explain.
    const auth = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks", jwks: { alg: "ES512" } });
    servers.push(await serveAuth(auth, port));
    const u = await signUp(auth, "erin@example.com", "Erin");
    user = { userId: u.userId, token: await getToken(auth, u.cookie) };
    expect(decodeProtectedHeader(user.token).alg).toBe("ES512");
    // Not ready: the set has no key the edge can use.
    edge = (
      await startBackend(services, {
        betterAuthUrl: origin,
        mode: "jwks",
        label: "ES512",
        extraEdgeEnv: EDGE_ENV,
        waitReady: false,
      })
    ).edgeUrl;
    // Wait until the edge has fetched the key set (it reports the ES512 key
    // under /readyz `warnings` once loaded), so no test sees the edge before that.
    await vi.waitFor(
      async () => {
        const body = (await (await fetch(`${edge}/readyz`)).json()) as { warnings?: string[] };
        if (!body.warnings?.length) throw new Error(`the edge has not loaded the key set yet: ${JSON.stringify(body)}`);
      },
      { timeout: 15_000, interval: 200 },
    );
  });

  it("lists the ES512 key under /readyz warnings (and is not ready: no usable key)", async () => {
    const res = await fetch(`${edge}/readyz`);
    const body = (await res.json()) as { details?: string[]; warnings?: string[] };
    expect(res.status).toBe(503);
    expect((body.warnings ?? []).join("\n")).toMatch(/ES512/);
    expect((body.details ?? []).join("\n")).toMatch(/no usable key/);
  });

  it("refuses the ES512 token with 401 and says why (ES512 is not supported)", async () => {
    const res = await call(edge, "GET", `/api/${user.userId}/tasks`, user.token);
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="invalid_token"');
    const description = /error_description="([^"]*)"/.exec(challenge)?.[1] ?? "";
    expect(description).toMatch(/ES512/);
    expect(description).toMatch(/not supported|unsupported/i);
    const problem = (await res.json()) as { status: number; detail?: string };
    expect(problem.status).toBe(401);
    expect(problem.detail ?? "").toMatch(/ES512/);
  });
});

describe("AUTH_JWT_MODE=both: the secret and the JWKS on one edge", () => {
  const SECRET = newSecret();
  let edge = "";
  let hsUser: { userId: string; token: string };
  let edUser: { userId: string; token: string };
  let origin = "";

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    // The same BETTER_AUTH_URL (iss = aud) for both apps, as in a migration
    // from HS256 to JWKS: one signs with the shared secret, the other with
    // Better Auth's own EdDSA key, published at ${origin}/api/auth/jwks.
    const hsAuth = makeAuth({ secret: SECRET, baseURL: origin, mode: "hs256" });
    const edAuth = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    servers.push(await serveAuth(edAuth, port));

    const h = await signUp(hsAuth, "hs@example.com", "Hal");
    hsUser = { userId: h.userId, token: await getToken(hsAuth, h.cookie) };
    const e = await signUp(edAuth, "ed@example.com", "Ed");
    edUser = { userId: e.userId, token: await getToken(edAuth, e.cookie) };
    expect(decodeProtectedHeader(hsUser.token).alg).toBe("HS256");
    expect(decodeProtectedHeader(edUser.token).alg).toBe("EdDSA");

    edge = (
      await startBackend(services, {
        betterAuthSecret: SECRET,
        betterAuthUrl: origin,
        mode: "both",
        label: "both",
        extraEdgeEnv: { ...EDGE_ENV, AUTH_JWKS_URL: `${origin}/api/auth/jwks` },
      })
    ).edgeUrl;
  });

  it("accepts the HS256 token (own path 201/200, another's 403)", async () => {
    const res = await call(edge, "POST", `/api/${hsUser.userId}/tasks`, hsUser.token, { title: "HS256" });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await call(edge, "GET", `/api/${hsUser.userId}/tasks`, hsUser.token)).status).toBe(200);
    expect((await call(edge, "GET", `/api/${edUser.userId}/tasks`, hsUser.token)).status).toBe(403);
  });

  it("accepts the EdDSA token (own path 201/200, another's 403)", async () => {
    const res = await call(edge, "POST", `/api/${edUser.userId}/tasks`, edUser.token, { title: "EdDSA" });
    expect(res.status, await res.clone().text()).toBe(201);
    const list = await call(edge, "GET", `/api/${edUser.userId}/tasks`, edUser.token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual(["EdDSA"]);
    expect((await call(edge, "GET", `/api/${hsUser.userId}/tasks`, edUser.token)).status).toBe(403);
  });

  it("still refuses an HS256 token signed with another secret, and an EdDSA token from an unpublished key (401)", async () => {
    const otherHs = makeAuth({ secret: newSecret(), baseURL: origin, mode: "hs256" });
    const o = await signUp(otherHs, "other@example.com");
    expect((await call(edge, "GET", `/api/${o.userId}/tasks`, await getToken(otherHs, o.cookie))).status).toBe(401);

    const otherEd = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    const p = await signUp(otherEd, "other-ed@example.com");
    expect((await call(edge, "GET", `/api/${p.userId}/tasks`, await getToken(otherEd, p.cookie))).status).toBe(401);
  });
});
