/**
 * Ended sessions (issue 15), through the real Better Auth library with the
 * app's options: tokens carry `sid` (the session id), every way a session
 * ends records it, and the feed serves it only to the shared secret. The
 * recording and the feed run on each storage: Better Auth's memory adapter,
 * SQLite (`just dev`) and PostgreSQL (compose; when TEST_DATABASE_URL is set).
 */
import type { BetterAuthPlugin } from "better-auth";
import { admin } from "better-auth/plugins";
import { decodeJwt } from "jose";
import { describe, expect, it, onTestFinished } from "vitest";
import { FEED_PATH, serveRevocationFeed } from "@/lib/auth/revocation-feed";
import {
  MODEL,
  OVERLAP_MS,
  RETENTION_MS,
  readRevocations,
  recordRevocation,
  type RevocationAdapter,
  type RevocationFeed,
} from "@/lib/auth/revocations";
import { getToken, makeAuth, signUp } from "../support/auth";
import { newSecret } from "../support/services";
import { STORAGES, type Storage } from "../support/storage";

const BASE = "http://localhost:3000";
const FEED_SECRET = newSecret();
const PASSWORD = "correct-horse-battery";

/**
 * A Better Auth instance with the app's options (plus `plugins`, as a
 * deployment might add them) on a fresh `storage`, closed after the test.
 */
async function setup(storage: Storage, plugins?: BetterAuthPlugin[]) {
  const { database, close } = await storage.open(plugins);
  onTestFinished(close);
  const auth = makeAuth({ secret: newSecret(), baseURL: BASE, database, plugins });
  const db = async () => (await auth.$context).adapter as unknown as RevocationAdapter;
  const feed = async (since?: number): Promise<RevocationFeed> => {
    const url = `${BASE}${FEED_PATH}${since === undefined ? "" : `?since=${since}`}`;
    const res = await serveRevocationFeed(
      new Request(url, { headers: { authorization: `Bearer ${FEED_SECRET}` } }),
      db,
      FEED_SECRET,
    );
    expect(res.status).toBe(200);
    return (await res.json()) as RevocationFeed;
  };
  const revoked = async () => new Set((await feed()).revoked.map((r) => r.sid));
  /** A second session of the same user (another browser). */
  const signIn = async (email: string) => {
    const { headers } = await auth.api.signInEmail({ body: { email, password: PASSWORD }, returnHeaders: true });
    return headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .join("; ");
  };
  return { auth, db, feed, revoked, signIn };
}

/** The admin plugin's endpoint the ban test calls (the app's own instance type does not list it). */
interface AdminApi {
  banUser(input: { headers: Headers; body: { userId: string } }): Promise<unknown>;
}

const sidOf = (token: string) => decodeJwt(token).sid as string;
const email = () => `user-${crypto.randomUUID()}@example.com`;

// Every storage the app runs on: the feed's queries (bigint columns,
// timestamps, operators) go through each adapter for real.
for (const storage of STORAGES) {
  describe.skipIf(!storage.available)(`on ${storage.name}`, () => {
    describe("sid in tokens", () => {
      it("is the session's id, not its token", async () => {
        const { auth } = await setup(storage);
        const { cookie } = await signUp(auth, email());
        const session = await auth.api.getSession({ headers: new Headers({ cookie }) });
        const sid = sidOf(await getToken(auth, cookie));
        expect(sid).toBe(session!.session.id);
        expect(sid).not.toBe(session!.session.token);
        expect(cookie).not.toContain(sid);
      });
    });

    describe("every way a session ends is recorded", () => {
      it("sign-out", async () => {
        const { auth, revoked } = await setup(storage);
        const { cookie } = await signUp(auth, email());
        const sid = sidOf(await getToken(auth, cookie));
        expect(await revoked()).not.toContain(sid);
        await auth.api.signOut({ headers: new Headers({ cookie }) });
        expect(await revoked()).toContain(sid);
      });

      it("revokeSession ends that session only", async () => {
        const { auth, revoked, signIn } = await setup(storage);
        const address = email();
        const { cookie: a } = await signUp(auth, address);
        const b = await signIn(address);
        const [sidA, sidB] = [sidOf(await getToken(auth, a)), sidOf(await getToken(auth, b))];
        const session = await auth.api.getSession({ headers: new Headers({ cookie: b }) });
        await auth.api.revokeSession({ headers: new Headers({ cookie: a }), body: { token: session!.session.token } });
        const ended = await revoked();
        expect(ended).toContain(sidB);
        expect(ended).not.toContain(sidA);
      });

      it("revokeOtherSessions ends the others, keeps this one", async () => {
        const { auth, revoked, signIn } = await setup(storage);
        const address = email();
        const { cookie: a } = await signUp(auth, address);
        const b = await signIn(address);
        const c = await signIn(address);
        const sids = await Promise.all([a, b, c].map(async (cookie) => sidOf(await getToken(auth, cookie))));
        await auth.api.revokeOtherSessions({ headers: new Headers({ cookie: a }) });
        const ended = await revoked();
        expect(ended).not.toContain(sids[0]);
        expect(ended).toContain(sids[1]);
        expect(ended).toContain(sids[2]);
      });

      it("revokeSessions (sign out everywhere) ends all of them", async () => {
        const { auth, revoked, signIn } = await setup(storage);
        const address = email();
        const { cookie: a } = await signUp(auth, address);
        const b = await signIn(address);
        const sids = await Promise.all([a, b].map(async (cookie) => sidOf(await getToken(auth, cookie))));
        await auth.api.revokeSessions({ headers: new Headers({ cookie: a }) });
        const ended = await revoked();
        for (const sid of sids) expect(ended).toContain(sid);
      });

      it("sign out everywhere ends every session, beyond Better Auth's default page of 100 rows", async () => {
        const { auth, revoked, signIn } = await setup(storage);
        const address = email();
        const { cookie } = await signUp(auth, address);
        const others: string[] = [];
        for (let i = 0; i < 105; i++) others.push(await signIn(address));
        const sids = await Promise.all([cookie, ...others].map(async (c) => sidOf(await getToken(auth, c))));
        await auth.api.revokeSessions({ headers: new Headers({ cookie }) });
        const ended = await revoked();
        expect(sids.filter((sid) => !ended.has(sid))).toEqual([]);
      }, 60_000);

      it("deleting the user through Better Auth (deleteUser; the admin plugin's removeUser) ends every session", async () => {
        const { auth, revoked, signIn } = await setup(storage);
        const address = email();
        const { userId, cookie: a } = await signUp(auth, address);
        const b = await signIn(address);
        const sids = await Promise.all([a, b].map(async (cookie) => sidOf(await getToken(auth, cookie))));
        await (await auth.$context).internalAdapter.deleteUser(userId);
        const ended = await revoked();
        for (const sid of sids) expect(ended).toContain(sid);
      });

      it("a ban with the admin plugin, when a deployment adds it, ends every session of the banned user", async () => {
        const { auth, revoked, signIn } = await setup(storage, [admin()]);
        const moderator = await signUp(auth, email());
        await (await auth.$context).internalAdapter.updateUser(moderator.userId, { role: "admin" });
        const address = email();
        const { userId, cookie: a } = await signUp(auth, address);
        const b = await signIn(address);
        const sids = await Promise.all([a, b].map(async (cookie) => sidOf(await getToken(auth, cookie))));
        const api = auth.api as unknown as AdminApi;
        await api.banUser({ headers: new Headers({ cookie: moderator.cookie }), body: { userId } });
        const ended = await revoked();
        for (const sid of sids) expect(ended).toContain(sid);
        expect(ended).not.toContain(sidOf(await getToken(auth, moderator.cookie)));
        await expect(signIn(address)).rejects.toThrow(/banned/i);
      });

      it("an expired session is listed although nobody deleted it", async () => {
        const { auth, db, revoked } = await setup(storage);
        const { cookie } = await signUp(auth, email());
        const session = await auth.api.getSession({ headers: new Headers({ cookie }) });
        const adapter = (await auth.$context).adapter;
        await adapter.update({
          model: "session",
          where: [{ field: "id", value: session!.session.id }],
          update: { expiresAt: new Date(Date.now() - 1000) },
        });
        expect(await revoked()).toContain(session!.session.id);
        // …for a token lifetime (plus leeway) after it expired, no longer.
        const later = await readRevocations(await db(), null, Date.now() + RETENTION_MS + 1000);
        expect(later.revoked.map((r) => r.sid)).not.toContain(session!.session.id);
      });
    });

    describe("the stored revocations", () => {
      it("are kept for the token lifetime plus leeway, then purged", async () => {
        const { db } = await setup(storage);
        const adapter = await db();
        const t0 = 1_700_000_000_000;
        await recordRevocation(adapter, "old", t0);
        await recordRevocation(adapter, "old", t0 + 10); // a repeat is a no-op
        const feed = await readRevocations(adapter, null, t0 + 1);
        expect(feed.revoked).toEqual([{ sid: "old", exp: Math.ceil((t0 + RETENTION_MS) / 1000) }]);
        await recordRevocation(adapter, "new", t0 + RETENTION_MS + 1);
        const rows = await adapter.findMany<{ sid: string }>({ model: MODEL, where: [] });
        expect(rows.map((r) => r.sid)).toEqual(["new"]);
      });

      it("an incremental read has what was recorded since the cursor (with overlap), a full read everything", async () => {
        const { db } = await setup(storage);
        const adapter = await db();
        const t0 = 1_700_000_000_000;
        await recordRevocation(adapter, "before", t0);
        const first = await readRevocations(adapter, null, t0 + 100_000);
        await recordRevocation(adapter, "after", t0 + 200_000);
        const next = await readRevocations(adapter, first.cursor, t0 + 200_001);
        expect(next.full).toBe(false);
        expect(next.revoked.map((r) => r.sid)).toEqual(["after"]);
        const late = await readRevocations(adapter, t0 + OVERLAP_MS - 1, t0 + 200_001);
        expect(late.revoked.map((r) => r.sid).sort()).toEqual(["after", "before"]);
      });
    });
  });
}

describe("the feed endpoint", () => {
  const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
  const memoryAdapterDb = async () => (await auth.$context).adapter as unknown as RevocationAdapter;
  const call = (headers: Record<string, string>, query = "", method = "GET") =>
    serveRevocationFeed(new Request(`${BASE}${FEED_PATH}${query}`, { headers, method }), memoryAdapterDb, FEED_SECRET);

  it("refuses a missing or wrong secret with 401, and does not exist without one (404)", async () => {
    expect((await call({})).status).toBe(401);
    expect((await call({ authorization: `Bearer ${newSecret()}` })).status).toBe(401);
    expect((await call({ authorization: FEED_SECRET })).status).toBe(401);
    const request = new Request(`${BASE}${FEED_PATH}`, { headers: { authorization: `Bearer ${FEED_SECRET}` } });
    const off = await serveRevocationFeed(request, memoryAdapterDb, undefined);
    expect(off.status).toBe(404);
    expect(off.headers.get("content-type")).toContain("application/problem+json");
  });

  it("answers a bad cursor with 400 and another method with 405", async () => {
    const auth = { authorization: `Bearer ${FEED_SECRET}` };
    expect((await call(auth, "?since=-1")).status).toBe(400);
    expect((await call(auth, "?since=abc")).status).toBe(400);
    expect((await call(auth, "", "POST")).status).toBe(405);
    const ok = await call(auth, "?since=0");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
  });
});
