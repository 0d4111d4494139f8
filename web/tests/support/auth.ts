/**
 * Builds a REAL Better Auth instance from the app's own options module
 * (src/lib/auth-options.ts), so tokens come from the same jwt.sign hook the
 * app uses, and helpers to sign up a user and fetch their JWT.
 */
import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import { betterAuth, type BetterAuthPlugin } from "better-auth";
import { toNodeHandler } from "better-auth/node";
import { memoryAdapter } from "better-auth/adapters/memory";
import { getMigrations } from "better-auth/db/migration";
import { createAuthOptions, type JwksSettings, type JwtMode } from "@/lib/auth-options";
import { FEED_PATH, serveRevocationFeed } from "@/lib/auth/revocation-feed";
import type { RevocationAdapter } from "@/lib/auth/revocations";
import { openSqlite } from "@/lib/database";

export function memoryDb() {
  return memoryAdapter({
    user: [],
    session: [],
    account: [],
    verification: [],
    jwks: [],
    rateLimit: [],
    signInThrottle: [],
    revokedSession: [],
  });
}

export function makeAuth(opts: {
  secret: string;
  baseURL: string;
  mode?: JwtMode;
  database?: Parameters<typeof createAuthOptions>[0]["database"];
  /** Key pair settings in `jwks` mode (algorithm, rotation), as AUTH_JWKS_* would give them. */
  jwks?: JwksSettings;
  /** Plugins a deployment might add to the app's (e.g. Better Auth's admin plugin). */
  plugins?: BetterAuthPlugin[];
}) {
  const options = createAuthOptions({
    secret: opts.secret,
    baseURL: opts.baseURL,
    mode: opts.mode ?? "hs256",
    database: opts.database ?? memoryDb(),
    jwks: opts.jwks,
  });
  // Typed as the app's own instance: a test reaches an added plugin's endpoints through a cast.
  const plugins = [...options.plugins, ...(opts.plugins ?? [])] as typeof options.plugins;
  return betterAuth({ ...options, plugins });
}

export interface HttpServed {
  origin: string;
  /** How many requests reached `/api/auth/jwks`. */
  jwksFetches(): number;
  close(): Promise<void>;
}

/**
 * Serves a Better Auth instance's endpoints over real HTTP on
 * 127.0.0.1:`port`; with `revocationSecret`, the app's revocation feed too
 * (`/api/internal/revocations`, as the Next route serves it).
 */
export async function serveAuth(
  auth: AnyAuth,
  port: number,
  { revocationSecret }: { revocationSecret?: string } = {},
): Promise<HttpServed> {
  const handler = toNodeHandler(auth);
  const db = async () => (await auth.$context).adapter as unknown as RevocationAdapter;
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/api/auth/jwks")) fetches++;
    if (req.url?.startsWith(FEED_PATH)) {
      const request = new Request(`http://127.0.0.1:${port}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
      });
      void serveRevocationFeed(request, db, revocationSecret).then(async (answer) => {
        res.writeHead(answer.status, Object.fromEntries(answer.headers));
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  return {
    origin: `http://127.0.0.1:${port}`,
    jwksFetches: () => fetches,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/**
 * A tiny counting HTTP proxy: every request to 127.0.0.1:`port` is forwarded
 * to `target` (an origin) and counted, so a test can point AUTH_JWKS_URL at it
 * and see exactly how often the backend fetched the key set.
 */
export async function countingProxy(target: string, port: number) {
  const upstream = new URL(target);
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? "");
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on("error", () => {
      res.writeHead(502).end();
    });
    req.pipe(out);
  });
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => seen.length,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
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

/**
 * A new user with a unique e-mail, signed up through Better Auth: id, session
 * cookie and a token. Tests make their own users, so none depends on another.
 */
export async function newUser(auth: AnyAuth, name: string) {
  const email = `${name.toLowerCase()}-${randomUUID()}@example.com`;
  const { userId, cookie } = await signUp(auth, email, name);
  return { userId, cookie, token: await getToken(auth, cookie) };
}

/** The JWT for the session behind `cookie`, as `GET /api/auth/token` would return it. */
export async function getToken(auth: AnyAuth, cookie: string): Promise<string> {
  const { token } = await auth.api.getToken({ headers: new Headers({ cookie }) });
  return token;
}
