/**
 * Interop, JWKS mode, every algorithm Better Auth's jwt plugin offers
 * (`jwks.keyPairConfig.alg`): tokens signed by the REAL Better Auth, built by
 * the app's own options (AUTH_JWKS_ALG read by the app's own env parser),
 * served over HTTP; the REAL Rust edge (+ tasks) fetches the JWKS itself.
 *
 * - EdDSA, ES256, ES512, RS256, PS256: accepted (201/200 on the user's own
 *   path, 403 on another's); a token of another key pair: 401.
 * - Better Auth 1.7's `jwks.keyPairConfigs`: one JWKS publishing all five
 *   algorithms at once, a token of each accepted by one edge.
 * - AUTH_JWT_MODE=both: one edge, given the secret AND the JWKS URL, accepts
 *   an HS256 token from an HS256-mode app and an EdDSA token from a
 *   JWKS-mode app (same BETTER_AUTH_URL).
 */
import { decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { betterAuth } from "better-auth";
import { jwt, signJWT, type JwtOptions } from "better-auth/plugins";
import { jwksSettingsFromEnv } from "@/lib/auth";
import { SUPPORTED_JWKS_ALGS, createAuthOptions, tokenPayload } from "@/lib/auth-options";
import { getToken, makeAuth, memoryDb, serveAuth, signUp, type HttpServed } from "../support/auth";
import { callEdge, freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";

const servers: HttpServed[] = [];
const services = testServices("todo-interop-jwks-algs-", () => Promise.all(servers.map((s) => s.close())));

/** The edge's settings for these tests: a 1 s refetch cooldown (default 30 s). */
const EDGE_ENV = { AUTH_JWKS_REFETCH_COOLDOWN_SECS: "1" };

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
  ES512: { kty: "EC", crv: "P-521" },
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
      const res = await callEdge(edge, "POST", `/api/${alice.userId}/tasks`, alice.token, {
        title: `Signed with ${alg}`,
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const list = await callEdge(edge, "GET", `/api/${alice.userId}/tasks`, alice.token);
      expect(list.status).toBe(200);
      expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual([`Signed with ${alg}`]);

      expect((await callEdge(edge, "GET", `/api/${bob.userId}/tasks`, alice.token)).status).toBe(403);
      expect((await callEdge(edge, "POST", `/api/${bob.userId}/tasks`, alice.token, { title: "sneaky" })).status).toBe(
        403,
      );
      expect((await callEdge(edge, "GET", `/api/${bob.userId}/tasks`, bob.token)).status).toBe(200);
    });

    it(`refuses a ${alg} token signed by another Better Auth key pair (same issuer) with 401`, async () => {
      const impostor = authFromEnv(alg, origin);
      const { userId, cookie } = await signUp(impostor, "mallory@example.com");
      const res = await callEdge(edge, "GET", `/api/${userId}/tasks`, await getToken(impostor, cookie));
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate") ?? "").toContain('error="invalid_token"');
    });
  },
);

describe("keyPairConfigs: one JWKS publishing every algorithm at once (Better Auth 1.7)", () => {
  const EXTRA = SUPPORTED_JWKS_ALGS.filter((alg) => alg !== "EdDSA");
  let edge = "";
  let origin = "";
  let userId = "";
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    // The app's own options, with the jwt plugin given Better Auth's
    // `keyPairConfigs`: EdDSA signs /api/auth/token, the other four are
    // minted on first use by signJWT's `signingAlgorithm`.
    const options: JwtOptions = {
      jwt: { issuer: origin, audience: origin, expirationTime: "15m", definePayload: tokenPayload },
      jwks: { keyPairConfig: { alg: "EdDSA" }, keyPairConfigs: EXTRA.map((alg) => ({ alg })) },
    };
    const base = createAuthOptions({ secret: newSecret(), baseURL: origin, mode: "jwks", database: memoryDb() });
    // Typed as the app's options: only the jwt plugin's options differ.
    const auth = betterAuth({ ...base, plugins: [jwt(options), ...base.plugins.slice(1)] } as unknown as typeof base);
    servers.push(await serveAuth(auth, port));
    const u = await signUp(auth, "kim@example.com", "Kim");
    userId = u.userId;
    tokens.set("EdDSA", await getToken(auth, u.cookie));
    const ctx = { context: await auth.$context } as unknown as Parameters<typeof signJWT>[0];
    for (const alg of EXTRA) {
      tokens.set(alg, await signJWT(ctx, { options, payload: { sub: userId }, signingAlgorithm: alg }));
    }
    const jwks = (await (await fetch(`${origin}/api/auth/jwks`)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual([...SUPPORTED_JWKS_ALGS].sort());
    edge = (
      await startBackend(services, { betterAuthUrl: origin, mode: "jwks", label: "all-algs", extraEdgeEnv: EDGE_ENV })
    ).edgeUrl;
  });

  it("accepts a token of each of the five algorithms from the one key set", async () => {
    for (const alg of SUPPORTED_JWKS_ALGS) {
      const token = tokens.get(alg) ?? "";
      expect(decodeProtectedHeader(token).alg).toBe(alg);
      const res = await callEdge(edge, "POST", `/api/${userId}/tasks`, token, { title: alg });
      expect(res.status, `${alg}: ${await res.clone().text()}`).toBe(201);
    }
    const list = await callEdge(edge, "GET", `/api/${userId}/tasks`, tokens.get("ES512"));
    expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual([...SUPPORTED_JWKS_ALGS]);
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
    const res = await callEdge(edge, "POST", `/api/${hsUser.userId}/tasks`, hsUser.token, { title: "HS256" });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await callEdge(edge, "GET", `/api/${hsUser.userId}/tasks`, hsUser.token)).status).toBe(200);
    expect((await callEdge(edge, "GET", `/api/${edUser.userId}/tasks`, hsUser.token)).status).toBe(403);
  });

  it("accepts the EdDSA token (own path 201/200, another's 403)", async () => {
    const res = await callEdge(edge, "POST", `/api/${edUser.userId}/tasks`, edUser.token, { title: "EdDSA" });
    expect(res.status, await res.clone().text()).toBe(201);
    const list = await callEdge(edge, "GET", `/api/${edUser.userId}/tasks`, edUser.token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as Array<{ title: string }>).map((t) => t.title)).toEqual(["EdDSA"]);
    expect((await callEdge(edge, "GET", `/api/${hsUser.userId}/tasks`, edUser.token)).status).toBe(403);
  });

  it("still refuses an HS256 token signed with another secret, and an EdDSA token from an unpublished key (401)", async () => {
    const otherHs = makeAuth({ secret: newSecret(), baseURL: origin, mode: "hs256" });
    const o = await signUp(otherHs, "other@example.com");
    expect((await callEdge(edge, "GET", `/api/${o.userId}/tasks`, await getToken(otherHs, o.cookie))).status).toBe(401);

    const otherEd = makeAuth({ secret: newSecret(), baseURL: origin, mode: "jwks" });
    const p = await signUp(otherEd, "other-ed@example.com");
    expect((await callEdge(edge, "GET", `/api/${p.userId}/tasks`, await getToken(otherEd, p.cookie))).status).toBe(401);
  });
});
