/**
 * A per-account sign-in throttle, whatever address the attempts come from:
 * at most {@link MAX_FAILURES} failed sign-ins per e-mail address in
 * {@link WINDOW_SECONDS}; then every sign-in for that address (the right
 * password too) answers 429 until the window ends. A successful sign-in
 * clears the count.
 *
 * Counts live in the database (table `signInThrottle`, created by Better
 * Auth's migration from this plugin's schema), so they hold across restarts
 * and replicas. Each attempt takes its slot atomically before the password is
 * checked (a compare-and-swap through the adapter's `incrementOne`), so
 * concurrent guesses cannot overrun the limit. Addresses are stored as an
 * HMAC keyed with BETTER_AUTH_SECRET, not in clear; unknown addresses are
 * counted like known ones, so the 429 tells nothing about who has an account.
 *
 * The price of any per-account limit: whoever knows an address can keep its
 * owner from signing in, at most {@link MAX_FAILURES} tries per window.
 */
import { createHmac } from "node:crypto";
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";

export const MAX_FAILURES = 10;
export const WINDOW_SECONDS = 15 * 60;

const MODEL = "signInThrottle";

interface Row {
  key: string;
  count: number;
  windowStart: number | string;
}

interface Adapter {
  findOne<T>(data: { model: string; where: { field: string; value: string }[] }): Promise<T | null>;
  create<T>(data: { model: string; data: Record<string, unknown>; forceAllowId?: boolean }): Promise<T>;
  incrementOne<T>(data: {
    model: string;
    where: { field: string; value: string | number; operator?: "eq" | "lt" }[];
    increment: Record<string, number>;
    set?: Record<string, unknown>;
  }): Promise<T | null>;
  deleteMany(data: { model: string; where: { field: string; value: string }[] }): Promise<number>;
}

export interface ThrottleDecision {
  allowed: boolean;
  /** Seconds until the window ends (when refused). */
  retryAfter: number;
}

/** Takes one attempt's slot for `key` at `now` (ms). */
export async function consumeAttempt(
  db: Adapter,
  key: string,
  now: number,
  limits = { max: MAX_FAILURES, windowSeconds: WINDOW_SECONDS },
): Promise<ThrottleDecision> {
  const windowMs = limits.windowSeconds * 1000;
  for (let tries = 0; tries < 5; tries++) {
    const row = await db.findOne<Row>({ model: MODEL, where: [{ field: "key", value: key }] });
    if (!row) {
      try {
        await db.create({ model: MODEL, data: { key, count: 1, windowStart: now } });
        return { allowed: true, retryAfter: 0 };
      } catch {
        continue; // created meanwhile by a concurrent attempt: read it again
      }
    }
    const start = Number(row.windowStart);
    if (now - start >= windowMs) {
      // The window is over: start a new one, unless another attempt just did.
      const reset = await db.incrementOne({
        model: MODEL,
        where: [
          { field: "key", value: key },
          { field: "windowStart", value: start },
        ],
        increment: {},
        set: { count: 1, windowStart: now },
      });
      if (reset) return { allowed: true, retryAfter: 0 };
      continue;
    }
    const taken = await db.incrementOne({
      model: MODEL,
      where: [
        { field: "key", value: key },
        { field: "windowStart", value: start },
        { field: "count", value: limits.max, operator: "lt" },
      ],
      increment: { count: 1 },
    });
    if (taken) return { allowed: true, retryAfter: 0 };
    const fresh = await db.findOne<Row>({ model: MODEL, where: [{ field: "key", value: key }] });
    if (fresh && Number(fresh.windowStart) === start) {
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((start + windowMs - now) / 1000)) };
    }
  }
  // Rows changing under us five times over: refuse rather than let it through.
  return { allowed: false, retryAfter: 1 };
}

/** The stored key for an e-mail address (as Better Auth compares them: lower-cased). */
export function throttleKey(secret: string, email: string): string {
  return createHmac("sha256", secret).update(`sign-in:${email.toLowerCase()}`).digest("base64url");
}

export function signInThrottle(options: { secret: string; max?: number; windowSeconds?: number; now?: () => number }) {
  const limits = { max: options.max ?? MAX_FAILURES, windowSeconds: options.windowSeconds ?? WINDOW_SECONDS };
  const now = options.now ?? Date.now;
  const isSignIn = (ctx: { path?: string }) => ctx.path === "/sign-in/email";
  const emailOf = (body: unknown) => {
    const email = (body as Record<string, unknown> | undefined)?.email;
    return typeof email === "string" ? email : undefined;
  };
  return {
    id: "todo-sign-in-throttle",
    schema: {
      [MODEL]: {
        fields: {
          key: { type: "string", unique: true, required: true },
          count: { type: "number", required: true },
          windowStart: { type: "number", bigint: true, required: true },
        },
      },
    },
    hooks: {
      before: [
        {
          matcher: isSignIn,
          handler: createAuthMiddleware(async (ctx) => {
            const email = emailOf(ctx.body);
            if (email === undefined) return; // Better Auth refuses it (400)
            const db = ctx.context.adapter as unknown as Adapter;
            const decision = await consumeAttempt(db, throttleKey(options.secret, email), now(), limits);
            if (!decision.allowed) {
              const minutes = Math.ceil(decision.retryAfter / 60);
              throw new APIError(
                "TOO_MANY_REQUESTS",
                {
                  code: "TOO_MANY_FAILED_SIGN_INS",
                  message: `Too many failed sign-ins for this account. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
                },
                { "Retry-After": String(decision.retryAfter) },
              );
            }
          }),
        },
      ],
      after: [
        {
          matcher: isSignIn,
          handler: createAuthMiddleware(async (ctx) => {
            const email = emailOf(ctx.body);
            if (email === undefined || isAPIError(ctx.context.returned)) return;
            // Signed in: the failures before this one no longer count.
            const db = ctx.context.adapter as unknown as Adapter;
            await db.deleteMany({ model: MODEL, where: [{ field: "key", value: throttleKey(options.secret, email) }] });
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
