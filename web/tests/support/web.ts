/**
 * The web app's production build and `next start` processes, for the
 * request-level tests (tests/web) and the browser tests (tests/e2e): one
 * `next build`, reused while it is newer than the sources (the projects'
 * globalSetup makes it), and helpers to migrate a database and start the app
 * on a free port with a given environment.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Services, WEB_DIR, freePort } from "./services";

export const NEXT_BIN = join(WEB_DIR, "node_modules/next/dist/bin/next");
export const TSX_BIN = join(WEB_DIR, "node_modules/tsx/dist/cli.mjs");

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/** A `next build` newer than every source (E2E_REBUILD=1 says no). */
export function buildIsFresh(): boolean {
  if (process.env.E2E_REBUILD === "1") return false;
  const buildId = join(WEB_DIR, ".next/BUILD_ID");
  if (!existsSync(buildId)) return false;
  const sources = ["src", "public", "next.config.ts", "package-lock.json", "tsconfig.json"].map((p) =>
    newestMtime(join(WEB_DIR, p)),
  );
  return statSync(buildId).mtimeMs > Math.max(...sources);
}

/** Runs `next build` unless a fresh build exists. */
export async function ensureProductionBuild(): Promise<void> {
  if (buildIsFresh()) return;
  const builder = new Services("todo-next-build-");
  let failed = false;
  try {
    await builder.run(
      "next-build",
      process.execPath,
      [NEXT_BIN, "build"],
      { NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
      420_000,
    );
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await builder.stop({ failed });
  }
}

/**
 * The environment of a web app under test: production mode, no inherited
 * auth settings, SQLite at `sqlitePath`; `overrides` win (`undefined` unsets).
 */
export function webEnv(
  sqlitePath: string,
  overrides: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return {
    NEXT_TELEMETRY_DISABLED: "1",
    NODE_ENV: "production",
    AUTH_JWT_MODE: "hs256",
    AUTH_JWKS_ALG: undefined,
    AUTH_JWKS_ROTATION_SECS: undefined,
    AUTH_JWKS_GRACE_SECS: undefined,
    AUTH_TRUSTED_PROXIES: undefined,
    AUTH_REVOCATION_SECRET: undefined,
    DATABASE_URL: undefined,
    AUTH_SQLITE_PATH: sqlitePath,
    NEXT_PUBLIC_API_URL: "http://127.0.0.1:9",
    ...overrides,
  };
}

/** Creates (or updates) the app's tables with its migration script, as `npm start` does. */
export function migrate(services: Services, env: Record<string, string | undefined>, name = "migrate") {
  return services.run(name, process.execPath, [TSX_BIN, "scripts/migrate.ts"], env, 60_000);
}

/**
 * `next start` on `port` (default: a free one) with `env`; resolves once
 * /sign-in answers. BETTER_AUTH_URL defaults to the app's own origin,
 * `http://<host>:<port>` (host `localhost` unless given).
 */
export async function startWeb(
  services: Services,
  env: Record<string, string | undefined>,
  { name = "web", port, host = "localhost" }: { name?: string; port?: number; host?: string } = {},
): Promise<{ url: string; port: number }> {
  const webPort = port ?? (await freePort());
  const url = `http://${host}:${webPort}`;
  services.start(name, process.execPath, [NEXT_BIN, "start", "-p", String(webPort)], {
    BETTER_AUTH_URL: url,
    ...env,
  });
  await services.waitForHttp(name, `${url}/sign-in`, { timeoutMs: 60_000 });
  return { url, port: webPort };
}
