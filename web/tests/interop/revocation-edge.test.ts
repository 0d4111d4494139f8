/**
 * Interop, ended sessions (issue 15): the REAL Better Auth (the app's
 * options, SQLite through its own migration) serves its endpoints and the
 * app's revocation feed over HTTP; two REAL Rust edges poll the feed
 * (AUTH_REVOCATION_SECRET). Sign-out, revokeOtherSessions and
 * revokeSessions: the old JWT gets 401 at every edge within 2 s, other
 * sessions keep working. With Better Auth's admin plugin added (as a
 * deployment might), a ban does the same for every session of the user.
 */
import { join } from "node:path";
import { admin } from "better-auth/plugins";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeAuth, migratedSqlite, newUser, getToken, serveAuth, type HttpServed } from "../support/auth";
import { freePort, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";
import { STORAGES } from "../support/storage";

const services = testServices("todo-interop-revocation-", async () => {
  await served?.close();
  await closeDb();
});

const SECRET = newSecret();
const FEED_SECRET = newSecret();
const ENDED = "the session was ended (signed out or revoked)";
/** The promise: an ended session's tokens are refused within this. */
const WITHIN_MS = 2_000;

let auth: ReturnType<typeof makeAuth>;
let served: HttpServed;
let edges: string[] = [];
let closeDb: () => Promise<void> = async () => {};

beforeAll(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const db = await migratedSqlite(join(services.dir, "auth.sqlite"), { secret: SECRET, baseURL: origin });
  closeDb = db.close;
  auth = makeAuth({ secret: SECRET, baseURL: origin, database: db.database });
  served = await serveAuth(auth, port, { revocationSecret: FEED_SECRET });
  const env = { AUTH_REVOCATION_SECRET: FEED_SECRET };
  edges = await Promise.all(
    ["one", "two"].map(async (label) => {
      const backend = await startBackend(services, {
        betterAuthSecret: SECRET,
        betterAuthUrl: origin,
        label,
        extraEdgeEnv: env,
      });
      return backend.edgeUrl;
    }),
  );
});

const list = (edge: string, userId: string, token: string) =>
  fetch(`${edge}/api/${userId}/tasks`, { headers: { authorization: `Bearer ${token}` } });

/** Polls every edge (of `on`) until it refuses `token`; returns the slowest time from `since`. */
async function refusedEverywhere(userId: string, token: string, since: number, on = edges): Promise<number> {
  let slowest = 0;
  for (const edge of on) {
    for (;;) {
      const res = await list(edge, userId, token);
      if (res.status === 401) {
        slowest = Math.max(slowest, Date.now() - since);
        expect(res.headers.get("www-authenticate") ?? "").toContain('error="invalid_token"');
        expect(((await res.json()) as { detail: string }).detail).toBe(`invalid token: ${ENDED}`);
        break;
      }
      expect(res.status).toBe(200);
      if (Date.now() - since > 30_000) throw new Error(`${edge} still accepts the token after 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return slowest;
}

async function acceptedEverywhere(userId: string, token: string, on = edges) {
  for (const edge of on) expect((await list(edge, userId, token)).status).toBe(200);
}

/** Another session of the same user (another browser), on `through` (default: the app's instance). */
async function signIn(email: string, through = auth) {
  const { headers } = await through.api.signInEmail({
    body: { email, password: "correct-horse-battery" },
    returnHeaders: true,
  });
  const cookie = headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
  return { cookie, token: await getToken(through, cookie) };
}

async function emailOf(userId: string, through = auth) {
  const ctx = await through.$context;
  return (await ctx.internalAdapter.findUserById(userId))!.email;
}

describe("ended sessions at the Rust edges", () => {
  it("sign-out: the old JWT gets 401 at every edge within 2 s; another session keeps working", async () => {
    const alice = await newUser(auth, "Alice");
    const other = await signIn(await emailOf(alice.userId));
    expect(decodeJwt(alice.token).sid).toBeTruthy();
    await acceptedEverywhere(alice.userId, alice.token);

    await auth.api.signOut({ headers: new Headers({ cookie: alice.cookie }) });
    const took = await refusedEverywhere(alice.userId, alice.token, Date.now());
    expect(took).toBeLessThan(WITHIN_MS);
    await acceptedEverywhere(alice.userId, other.token);
  });

  it("revokeOtherSessions: the other sessions' JWTs get 401, this one's keeps working", async () => {
    const bob = await newUser(auth, "Bob");
    const other = await signIn(await emailOf(bob.userId));
    await auth.api.revokeOtherSessions({ headers: new Headers({ cookie: bob.cookie }) });
    const took = await refusedEverywhere(bob.userId, other.token, Date.now());
    expect(took).toBeLessThan(WITHIN_MS);
    await acceptedEverywhere(bob.userId, bob.token);
  });

  it("revokeSessions (sign out everywhere): every session's JWT gets 401", async () => {
    const carol = await newUser(auth, "Carol");
    const other = await signIn(await emailOf(carol.userId));
    await auth.api.revokeSessions({ headers: new Headers({ cookie: carol.cookie }) });
    const since = Date.now();
    expect(await refusedEverywhere(carol.userId, carol.token, since)).toBeLessThan(WITHIN_MS);
    expect(await refusedEverywhere(carol.userId, other.token, since)).toBeLessThan(WITHIN_MS);
  });

  it("an edge started after the sign-out refuses the old JWT from its first request", async () => {
    const dave = await newUser(auth, "Dave");
    await auth.api.signOut({ headers: new Headers({ cookie: dave.cookie }) });
    const { edgeUrl } = await startBackend(services, {
      betterAuthSecret: SECRET,
      betterAuthUrl: served.origin,
      label: "late",
      extraEdgeEnv: { AUTH_REVOCATION_SECRET: FEED_SECRET },
    });
    const res = await list(edgeUrl, dave.userId, dave.token);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { detail: string }).detail).toBe(`invalid token: ${ENDED}`);
  });

  it("the feed refuses the edge's request without the shared secret", async () => {
    const res = await fetch(`${served.origin}/api/internal/revocations`);
    expect(res.status).toBe(401);
    const wrong = await fetch(`${served.origin}/api/internal/revocations`, {
      headers: { authorization: `Bearer ${newSecret()}` },
    });
    expect(wrong.status).toBe(401);
  });
});

/** The admin plugin's endpoint the ban test calls (the app's own instance type does not list it). */
interface AdminApi {
  banUser(input: { headers: Headers; body: { userId: string } }): Promise<unknown>;
}

// The app does not enable the admin plugin; a deployment that adds it gets
// bans covered too: here the app's options plus admin(), with an edge of its own.
describe("ended sessions at a Rust edge, with Better Auth's admin plugin added", () => {
  let withAdmin: ReturnType<typeof makeAuth>;
  let servedWithAdmin: HttpServed | undefined;
  let closeStorage: () => Promise<void> = async () => {};
  let edge: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const sqlite = STORAGES.find((s) => s.name === "SQLite")!;
    const storage = await sqlite.open([admin()]);
    closeStorage = storage.close;
    withAdmin = makeAuth({ secret: SECRET, baseURL: origin, database: storage.database, plugins: [admin()] });
    servedWithAdmin = await serveAuth(withAdmin, port, { revocationSecret: FEED_SECRET });
    const backend = await startBackend(services, {
      betterAuthSecret: SECRET,
      betterAuthUrl: origin,
      label: "admin",
      extraEdgeEnv: { AUTH_REVOCATION_SECRET: FEED_SECRET },
    });
    edge = [backend.edgeUrl];
  });

  afterAll(async () => {
    await servedWithAdmin?.close();
    await closeStorage();
  });

  it("a ban: every session's JWT of the banned user gets 401 within 2 s; the admin's keeps working", async () => {
    const moderator = await newUser(withAdmin, "Moderator");
    await (await withAdmin.$context).internalAdapter.updateUser(moderator.userId, { role: "admin" });
    const erin = await newUser(withAdmin, "Erin");
    const other = await signIn(await emailOf(erin.userId, withAdmin), withAdmin);
    await acceptedEverywhere(erin.userId, erin.token, edge);

    const api = withAdmin.api as unknown as AdminApi;
    await api.banUser({ headers: new Headers({ cookie: moderator.cookie }), body: { userId: erin.userId } });
    const since = Date.now();
    expect(await refusedEverywhere(erin.userId, erin.token, since, edge)).toBeLessThan(WITHIN_MS);
    expect(await refusedEverywhere(erin.userId, other.token, since, edge)).toBeLessThan(WITHIN_MS);
    await acceptedEverywhere(moderator.userId, moderator.token, edge);
  });
});
