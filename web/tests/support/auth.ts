/**
 * Builds a REAL Better Auth instance from the app's own options module
 * (src/lib/auth-options.ts), so tokens come from the same jwt.sign hook the
 * app uses, and helpers to sign up a user and fetch their JWT.
 */
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { getMigrations } from "better-auth/db/migration";
import { createAuthOptions, type JwtMode } from "@/lib/auth-options";
import { openSqlite } from "@/lib/database";

export function memoryDb() {
  return memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] });
}

export function makeAuth(opts: {
  secret: string;
  baseURL: string;
  mode?: JwtMode;
  database?: Parameters<typeof createAuthOptions>[0]["database"];
}) {
  return betterAuth(
    createAuthOptions({
      secret: opts.secret,
      baseURL: opts.baseURL,
      mode: opts.mode ?? "hs256",
      database: opts.database ?? memoryDb(),
    }),
  );
}

/** Opens a SQLite file and creates Better Auth's tables with its own migration. */
export async function migratedSqlite(file: string, settings: { secret: string; baseURL: string; mode?: JwtMode }) {
  const db = openSqlite(file);
  const { runMigrations } = await getMigrations(
    createAuthOptions({ ...settings, mode: settings.mode ?? "hs256", database: db.database }),
  );
  await runMigrations();
  return db;
}

type AnyAuth = ReturnType<typeof makeAuth>;

/** Signs a user up through Better Auth's API; returns the user id and the session cookie header. */
export async function signUp(auth: AnyAuth, email: string, name = "Test User", password = "correct-horse-battery") {
  const { headers, response } = await auth.api.signUpEmail({
    body: { email, password, name },
    returnHeaders: true,
  });
  const cookie = headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
  if (!cookie.includes("session_token")) throw new Error(`no session cookie in sign-up response: ${cookie}`);
  return { userId: response.user.id, cookie };
}

/** The JWT for the session behind `cookie`, as `GET /api/auth/token` would return it. */
export async function getToken(auth: AnyAuth, cookie: string): Promise<string> {
  const { token } = await auth.api.getToken({ headers: new Headers({ cookie }) });
  return token;
}
