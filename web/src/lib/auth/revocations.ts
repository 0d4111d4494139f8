/**
 * Ended sessions, for the backend to refuse their tokens at once (issue 15).
 *
 * Each token carries its session's id as `sid` (see `tokenPayload` in
 * auth-options.ts; the id, never the session token). When Better Auth deletes
 * a session row, whatever the path (sign-out, revokeSession(s),
 * revokeOtherSessions, an expired session found by getSession, user deletion,
 * the admin plugin's ban), its `session.delete.before` database hook runs:
 * this plugin records the id in the table `revokedSession` (created by Better
 * Auth's migration from the plugin's schema) before the row goes. A failed
 * record fails the deletion: the user sees an error and can retry, rather
 * than think they signed out while their tokens still work.
 *
 * Sessions that simply expire are not deleted until someone touches them, so
 * the feed also lists sessions whose `expiresAt` passed less than a token
 * lifetime ago: a token minted just before a session expired outlives it by
 * up to 15 minutes otherwise.
 *
 * An entry is kept until no token carrying it can still be accepted: its end
 * plus the token lifetime plus the most clock-skew leeway the backend allows
 * ({@link RETENTION_MS}); older rows are purged when new ones are recorded.
 */
import type { BetterAuthPlugin } from "better-auth";
import { TOKEN_LIFETIME_SECONDS } from "./token-lifetime";

export const MODEL = "revokedSession";

/** The backend's largest leeway (AUTH_LEEWAY_SECS ≤ 60). */
const MAX_LEEWAY_MS = 60_000;

/** How long after a session ended a token carrying its id may still be accepted. */
export const RETENTION_MS = TOKEN_LIFETIME_SECONDS * 1000 + MAX_LEEWAY_MS;

/**
 * Each incremental read looks this far behind its cursor: a row written by a
 * transaction that committed late (or on a web replica whose clock is a
 * little behind) is still seen. Entries are idempotent, so repeats are free.
 */
export const OVERLAP_MS = 5_000;

/** The most rows one feed answer reads from each table. */
const MAX_ROWS = 200_000;

/** The subset of Better Auth's adapter this module uses. */
export interface RevocationAdapter {
  create<T>(data: { model: string; data: Record<string, unknown> }): Promise<T>;
  findOne<T>(data: { model: string; where: Where[] }): Promise<T | null>;
  findMany<T>(data: { model: string; where: Where[]; limit?: number }): Promise<T[]>;
  deleteMany(data: { model: string; where: Where[] }): Promise<number>;
}

interface Where {
  field: string;
  value: string | number | Date;
  operator?: "eq" | "lt" | "lte" | "gt" | "gte";
}

interface RevokedRow {
  sid: string;
  revokedAt: number | string;
  expiresAt: number | string;
}

interface SessionRow {
  id: string;
  expiresAt: Date | string | number;
}

/** One ended session: its id, and when (Unix seconds) it may be forgotten. */
export interface Revocation {
  sid: string;
  exp: number;
}

/** What `GET /api/internal/revocations` answers. */
export interface RevocationFeed {
  /** Pass back as `since` for the changes after this answer (ms, the web's clock). */
  cursor: number;
  /** `true`: every revocation still in force (replace the set); `false`: additions only. */
  full: boolean;
  revoked: Revocation[];
}

/** Records that session `sid` ended at `now` (ms); a repeat is a no-op. */
export async function recordRevocation(db: RevocationAdapter, sid: string, now = Date.now()): Promise<void> {
  const known = await db.findOne<RevokedRow>({ model: MODEL, where: [{ field: "sid", value: sid }] });
  if (!known) {
    try {
      await db.create({ model: MODEL, data: { sid, revokedAt: now, expiresAt: now + RETENTION_MS } });
    } catch (error) {
      // A concurrent delete of the same session recorded it first.
      const raced = await db.findOne<RevokedRow>({ model: MODEL, where: [{ field: "sid", value: sid }] });
      if (!raced) throw error;
    }
  }
  await db.deleteMany({ model: MODEL, where: [{ field: "expiresAt", value: now, operator: "lt" }] });
}

const millis = (value: Date | string | number) =>
  value instanceof Date ? value.getTime() : typeof value === "number" ? value : new Date(value).getTime();

/**
 * The revocations in force at `now` (ms): every one when `since` is null,
 * else those recorded (or sessions expired) from `since - OVERLAP_MS` on.
 */
export async function readRevocations(
  db: RevocationAdapter,
  since: number | null,
  now = Date.now(),
): Promise<RevocationFeed> {
  const from = since === null ? now - RETENTION_MS : since - OVERLAP_MS;
  const recorded = await db.findMany<RevokedRow>({
    model: MODEL,
    where:
      since === null
        ? [{ field: "expiresAt", value: now, operator: "gte" }]
        : [{ field: "revokedAt", value: from, operator: "gte" }],
    limit: MAX_ROWS,
  });
  const expired = await db.findMany<SessionRow>({
    model: "session",
    where: [
      { field: "expiresAt", value: new Date(from), operator: "gte" },
      { field: "expiresAt", value: new Date(now), operator: "lte" },
    ],
    limit: MAX_ROWS,
  });
  const revoked = new Map<string, number>();
  for (const row of recorded) revoked.set(row.sid, Math.ceil(Number(row.expiresAt) / 1000));
  for (const row of expired) {
    const exp = Math.ceil((millis(row.expiresAt) + RETENTION_MS) / 1000);
    revoked.set(row.id, Math.max(exp, revoked.get(row.id) ?? 0));
  }
  return {
    cursor: now,
    full: since === null,
    revoked: [...revoked].map(([sid, exp]) => ({ sid, exp })),
  };
}

/** The Better Auth plugin: the `revokedSession` table and the hook that fills it. */
export function sessionRevocations() {
  return {
    id: "todo-session-revocations",
    schema: {
      [MODEL]: {
        fields: {
          sid: { type: "string", unique: true, required: true },
          revokedAt: { type: "number", bigint: true, required: true, index: true },
          expiresAt: { type: "number", bigint: true, required: true, index: true },
        },
      },
    },
    init(ctx) {
      const db = ctx.adapter as unknown as RevocationAdapter;
      return {
        options: {
          databaseHooks: {
            session: {
              delete: {
                before: async (session: { id: string }) => {
                  await recordRevocation(db, session.id);
                },
              },
            },
          },
        },
      };
    },
  } satisfies BetterAuthPlugin;
}
