/**
 * The app's Better Auth configuration, exercised through the real library
 * (memory adapter / temp SQLite): what the tokens look like in each mode.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { authSettingsFromEnv } from "@/lib/auth";
import { ConfigError, createAuthOptions, parseJwksAlg, parseJwtMode, parseTokenClaims } from "@/lib/auth-options";
import { getMigrations } from "better-auth/db/migration";
import { getToken, makeAuth, memoryDb, migratedSqlite, signUp } from "../support/auth";
import { newSecret, tempDir } from "../support/services";

const BASE = "http://localhost:3000";

describe("HS256 mode (default)", () => {
  const secret = newSecret();
  const auth = makeAuth({ secret, baseURL: BASE });

  it("issues a small HS256 token signed with the UTF-8 bytes of BETTER_AUTH_SECRET", async () => {
    const { userId, cookie } = await signUp(auth, "ada@example.com", "Ada");
    const token = await getToken(auth, cookie);

    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      issuer: BASE,
      audience: BASE,
    });
    expect(payload.sub).toBe(userId);
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(10);
    // Only what the edge needs: no name or e-mail (a long name made tokens the edge refused); sid = the session id.
    expect(Object.keys(payload).sort()).toEqual(["aud", "exp", "iat", "iss", "sid", "sub"]);
  });

  it("does not verify with another secret", async () => {
    const { cookie } = await signUp(auth, "bob@example.com");
    const token = await getToken(auth, cookie);
    await expect(jwtVerify(token, new TextEncoder().encode(newSecret()))).rejects.toThrow();
  });

  it("publishes no JWKS (404) and refuses /token without a session (401)", async () => {
    const jwks = await auth.handler(new Request(`${BASE}/api/auth/jwks`));
    expect(jwks.status).toBe(404);
    const token = await auth.handler(new Request(`${BASE}/api/auth/token`));
    expect(token.status).toBe(401);
  });

  it("serves the token over HTTP at /api/auth/token with the session cookie", async () => {
    const { cookie } = await signUp(auth, "carol@example.com");
    const res = await auth.handler(new Request(`${BASE}/api/auth/token`, { headers: { cookie } }));
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    expect(decodeProtectedHeader(token).alg).toBe("HS256");
  });
});

describe("JWKS mode", () => {
  it("leaves signing to Better Auth's own EdDSA keys, verifiable through /api/auth/jwks", async () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE, mode: "jwks" });
    const { userId, cookie } = await signUp(auth, "dan@example.com", "Dan");
    const token = await getToken(auth, cookie);
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe("EdDSA");
    expect(header.kid).toBeTruthy();

    const res = await auth.handler(new Request(`${BASE}/api/auth/jwks`));
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", kid: header.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      issuer: BASE,
      audience: BASE,
    });
    expect(payload.sub).toBe(userId);
    expect(payload.exp! - payload.iat!).toBe(15 * 60);
    expect(Object.keys(payload).sort()).toEqual(["aud", "exp", "iat", "iss", "sid", "sub"]);
  });
});

describe("JWKS mode key pairs (AUTH_JWKS_ALG, rotation)", () => {
  it.each([
    ["ES256", { kty: "EC", crv: "P-256" }],
    ["RS256", { kty: "RSA" }],
    ["PS256", { kty: "RSA" }],
  ] as const)("signs with %s when asked, and publishes that key", async (alg, shape) => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE, mode: "jwks", jwks: { alg } });
    const { userId, cookie } = await signUp(auth, `${alg}@example.com`);
    const token = await getToken(auth, cookie);
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe(alg);
    const jwks = (await (await auth.handler(new Request(`${BASE}/api/auth/jwks`))).json()) as {
      keys: Array<Record<string, string>>;
    };
    expect(jwks.keys).toEqual([expect.objectContaining({ ...shape, alg, kid: header.kid })]);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: BASE, audience: BASE });
    expect(payload.sub).toBe(userId);
  });

  it("rotates keys with jwks.rotationInterval, keeping the old one published", async () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE, mode: "jwks", jwks: { rotationInterval: 1 } });
    const { cookie } = await signUp(auth, "rot@example.com");
    const first = decodeProtectedHeader(await getToken(auth, cookie)).kid;
    // Wait for the rotation itself: ask for tokens until one carries a new kid.
    let second: string | undefined;
    await expect
      .poll(async () => (second = decodeProtectedHeader(await getToken(auth, cookie)).kid), {
        timeout: 15_000,
        interval: 100,
      })
      .not.toBe(first);
    expect(second).toBeTruthy();
    const jwks = (await (await auth.handler(new Request(`${BASE}/api/auth/jwks`))).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([first, second].sort());
  });
});

describe("configuration checks", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("parses AUTH_JWKS_ALG (default EdDSA), every algorithm Better Auth offers", () => {
    expect(parseJwksAlg(undefined)).toBe("EdDSA");
    expect(parseJwksAlg(" ")).toBe("EdDSA");
    expect(parseJwksAlg("es256")).toBe("ES256");
    expect(parseJwksAlg("RS256")).toBe("RS256");
    expect(parseJwksAlg("PS256")).toBe("PS256");
    expect(parseJwksAlg("es512")).toBe("ES512");
    expect(() => parseJwksAlg("HS256")).toThrow(ConfigError);
  });

  it("reads the JWKS settings from the environment", () => {
    vi.stubEnv("BETTER_AUTH_SECRET", newSecret());
    vi.stubEnv("AUTH_JWT_MODE", "jwks");
    vi.stubEnv("AUTH_JWKS_ALG", "ES256");
    vi.stubEnv("AUTH_JWKS_ROTATION_SECS", "86400");
    vi.stubEnv("AUTH_JWKS_GRACE_SECS", "");
    expect(authSettingsFromEnv().jwks).toEqual({ alg: "ES256", rotationInterval: 86400, gracePeriod: undefined });
    vi.stubEnv("AUTH_JWKS_GRACE_SECS", "600");
    expect(() => authSettingsFromEnv()).toThrow(/AUTH_JWKS_GRACE_SECS.*at least 900/);
    vi.stubEnv("AUTH_JWKS_GRACE_SECS", "3600");
    vi.stubEnv("AUTH_JWKS_ROTATION_SECS", "1.5");
    expect(() => authSettingsFromEnv()).toThrow(/AUTH_JWKS_ROTATION_SECS/);
  });

  it("reads AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE as the edge does", () => {
    expect(parseTokenClaims(undefined, " ")).toEqual({});
    expect(parseTokenClaims("https://auth.example.com/", "https://api.example.com, todo-edge")).toEqual({
      issuer: "https://auth.example.com/",
      audience: ["https://api.example.com", "todo-edge"],
    });
    expect(() => parseTokenClaims(undefined, "a,,b")).toThrow(/AUTH_JWT_AUDIENCE has an empty entry/);
    vi.stubEnv("BETTER_AUTH_SECRET", newSecret());
    vi.stubEnv("AUTH_JWT_AUDIENCE", "todo-edge");
    expect(authSettingsFromEnv().claims).toEqual({ audience: ["todo-edge"] });
  });

  it("parses AUTH_JWT_MODE", () => {
    expect(parseJwtMode(undefined)).toBe("hs256");
    expect(parseJwtMode("JWKS")).toBe("jwks");
    expect(parseJwtMode("both")).toBe("both");
    expect(() => parseJwtMode("rs256")).toThrow(ConfigError);
  });

  it("refuses a missing or short secret in HS256 mode", () => {
    const base = { baseURL: BASE, mode: "hs256" as const, database: memoryDb() };
    expect(() => createAuthOptions({ ...base, secret: "" })).toThrow(/not set/);
    expect(() => createAuthOptions({ ...base, secret: "x".repeat(31) })).toThrow(/at least 32/);
    expect(() => createAuthOptions({ ...base, secret: "x".repeat(32) })).not.toThrow();
  });

  it("requires BETTER_AUTH_URL to be a bare origin and normalizes it", () => {
    const base = { secret: newSecret(), mode: "hs256" as const, database: memoryDb() };
    expect(() => createAuthOptions({ ...base, baseURL: "localhost:3000" })).toThrow(ConfigError);
    expect(() => createAuthOptions({ ...base, baseURL: "http://localhost:3000/api/auth" })).toThrow(/bare origin/);
    expect(createAuthOptions({ ...base, baseURL: "http://localhost:3000/" }).baseURL).toBe(BASE);
  });
});

describe("SQLite storage and migration", () => {
  const dir = tempDir("todo-auth-unit-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates Better Auth's tables with its own migration, idempotently, and works on them", async () => {
    const file = join(dir, "auth.sqlite");
    const settings = { secret: newSecret(), baseURL: BASE };
    const db = await migratedSqlite(file, settings);
    const tables = (db.database as import("better-sqlite3").Database)
      .prepare("select name from sqlite_master where type = 'table'")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual(
      expect.arrayContaining(["user", "session", "account", "verification", "jwks", "rateLimit", "signInThrottle"]),
    );

    const again = await getMigrations(createAuthOptions({ ...settings, mode: "hs256", database: db.database }));
    expect(again.toBeCreated).toHaveLength(0);
    expect(again.toBeAdded).toHaveLength(0);

    const auth = makeAuth({ ...settings, database: db.database });
    const { userId, cookie } = await signUp(auth, "erin@example.com");
    const token = await getToken(auth, cookie);
    const { payload } = await jwtVerify(token, new TextEncoder().encode(settings.secret));
    expect(payload.sub).toBe(userId);
    await db.close();
  });
});

// PostgreSQL: runs when TEST_DATABASE_URL is a postgres:// URL (the justfile's
// convention; `skip` or unset skips it). Works in a fresh schema of its own,
// dropped afterwards, so it never touches other tables in that database.
const PG_URL = process.env.TEST_DATABASE_URL?.startsWith("postgres") ? process.env.TEST_DATABASE_URL : undefined;
describe.skipIf(!PG_URL)("PostgreSQL storage and migration", () => {
  it("migrates with a pg Pool and issues tokens", async () => {
    const { Pool } = await import("pg");
    const schema = `web_auth_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const admin = new Pool({ connectionString: PG_URL, max: 1 });
    await admin.query(`create schema "${schema}"`);
    const pool = new Pool({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    const settings = { secret: newSecret(), baseURL: BASE, mode: "hs256" as const };
    try {
      const { runMigrations } = await getMigrations(createAuthOptions({ ...settings, database: pool }));
      await runMigrations();
      const { rows } = await admin.query("select table_name from information_schema.tables where table_schema = $1", [
        schema,
      ]);
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(["user", "session", "account", "verification", "jwks", "rateLimit", "signInThrottle"]),
      );
      const again = await getMigrations(createAuthOptions({ ...settings, database: pool }));
      expect(again.toBeCreated).toHaveLength(0);
      const auth = makeAuth({ ...settings, database: pool });
      const { userId, cookie } = await signUp(auth, `pg-${Date.now()}@example.com`);
      const { payload } = await jwtVerify(await getToken(auth, cookie), new TextEncoder().encode(settings.secret));
      expect(payload.sub).toBe(userId);
    } finally {
      await pool.end();
      await admin.query(`drop schema "${schema}" cascade`);
      await admin.end();
    }
  });
});
