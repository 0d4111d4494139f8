/**
 * Interop, JWKS key rotation with Better Auth's own `jwks.rotationInterval`
 * (2 s here) and `jwks.gracePeriod` (8 s here), through the app's options.
 * The REAL edge (AUTH_JWT_MODE=jwks, refetch cooldown 1 s, periodic refresh
 * off for the test's duration) fetches the JWKS through a counting proxy
 * (AUTH_JWKS_URL), so the test sees every fetch:
 *
 * 1. token A (kid1) is accepted with the key set loaded at start-up;
 * 2. once Better Auth has rotated, token B (kid2) is accepted after exactly
 *    one refetch, and token A (its key still published, in its grace period,
 *    the token not expired) is still accepted, with no further fetch;
 * 3. once Better Auth withdraws kid1 (grace period over), the next refetch
 *    (caused by the next rotation's kid3) replaces the set: token A is then
 *    refused with 401 while token C is accepted.
 */
import { decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { countingProxy, getToken, makeAuth, serveAuth, signUp, type HttpServed } from "../support/auth";
import { freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";

const ROTATION_SECS = 2;
const GRACE_SECS = 8;

let web: HttpServed;
let proxy: Awaited<ReturnType<typeof countingProxy>>;
let auth: ReturnType<typeof makeAuth>;
let edge = "";
let alice: { userId: string; cookie: string };

const services = testServices("todo-interop-jwks-rotation-", async () => {
  await proxy?.close();
  await web?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kid = (token: string) => decodeProtectedHeader(token).kid;

async function publishedKids(): Promise<string[]> {
  // Straight to Better Auth, not through the proxy (which counts the edge's fetches only).
  const jwks = (await (await fetch(`${web.origin}/api/auth/jwks`)).json()) as { keys: Array<{ kid: string }> };
  return jwks.keys.map((k) => k.kid);
}

/** Asks Better Auth for tokens until one is signed by a key other than `oldKid` (i.e. it has rotated). */
async function tokenAfterRotation(oldKid: string | undefined): Promise<string> {
  const deadline = Date.now() + (ROTATION_SECS + 10) * 1000;
  while (Date.now() < deadline) {
    const token = await getToken(auth, alice.cookie);
    if (kid(token) !== oldKid) return token;
    await sleep(200);
  }
  throw new Error(`Better Auth did not rotate away from kid ${oldKid} in time`);
}

function list(token: string) {
  return fetch(`${edge}/api/${alice.userId}/tasks`, { headers: { authorization: `Bearer ${token}` } });
}

beforeAll(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  auth = makeAuth({
    secret: newSecret(),
    baseURL: origin,
    mode: "jwks",
    jwks: { alg: "EdDSA", rotationInterval: ROTATION_SECS, gracePeriod: GRACE_SECS },
  });
  web = await serveAuth(auth, port);
  proxy = await countingProxy(origin, await freePort());
  alice = await signUp(auth, "alice@example.com", "Alice");
});

// One test: the three steps are one story on one key set (each step starts
// from the state the previous one left), so they are not separate tests.
describe("Better Auth key rotation seen by the Rust edge", () => {
  it("accepts a new key after one refetch, the old key's token during its grace period, and refuses it once withdrawn", async () => {
    // 1. Token A (kid1), accepted with the key set loaded at start-up.
    const tokenA = await getToken(auth, alice.cookie); // mints kid1 (expires in ROTATION_SECS)
    edge = (
      await startBackend(services, {
        betterAuthUrl: web.origin, // iss = aud
        mode: "jwks",
        extraEdgeEnv: {
          AUTH_JWKS_URL: `${proxy.url}/api/auth/jwks`,
          AUTH_JWKS_REFETCH_COOLDOWN_SECS: "1",
          AUTH_JWKS_REFRESH_SECS: "3600", // no periodic refresh during the test: only refetches count
        },
      })
    ).edgeUrl;
    const atStart = proxy.count();
    expect(atStart).toBeGreaterThanOrEqual(1); // the start-up load, through the proxy (AUTH_JWKS_URL honoured)
    expect(web.jwksFetches()).toBe(atStart); // … and nothing else fetched it

    expect((await list(tokenA)).status).toBe(200);
    expect(proxy.count()).toBe(atStart); // known kid: no fetch

    // 2. Better Auth rotates: token B (kid2) costs exactly one refetch; A stays valid.
    const tokenB = await tokenAfterRotation(kid(tokenA));
    expect(kid(tokenB)).toBeTruthy();
    expect(await publishedKids()).toEqual(expect.arrayContaining([kid(tokenA), kid(tokenB)]));

    const resB = await list(tokenB);
    expect(resB.status, await resB.clone().text()).toBe(200);
    expect(proxy.count()).toBe(atStart + 1); // exactly one refetch for the unknown kid

    // The old key is still published (grace period) and token A has not expired.
    const resA = await list(tokenA);
    expect(resA.status, await resA.clone().text()).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await list(tokenB)).status).toBe(200);
      expect((await list(tokenA)).status).toBe(200);
    }
    expect(proxy.count()).toBe(atStart + 1);

    // 3. Wait for Better Auth to withdraw kid1 (rotation + grace period after it was minted).
    await expect
      .poll(async () => (await publishedKids()).includes(kid(tokenA)!), {
        timeout: (ROTATION_SECS + GRACE_SECS + 10) * 1000,
        interval: 250,
      })
      .toBe(false);
    // The edge still has its old set; the next unknown kid makes it refetch.
    const tokenC = await tokenAfterRotation(kid(tokenB));
    const before = proxy.count();
    expect((await list(tokenC)).status).toBe(200);
    expect(proxy.count()).toBe(before + 1);

    const refused = await list(tokenA);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate") ?? "").toContain('error="invalid_token"');
    // An unknown kid is a 401, never a 5xx, and costs at most one fetch per cooldown.
    expect(proxy.count()).toBeLessThanOrEqual(before + 2);
  }, 120_000); // waits for two rotations and a grace period (about 15 s), with room to spare
});
