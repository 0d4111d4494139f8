/**
 * The app's rules around Better Auth, through the real library (memory
 * adapter, temp SQLite, PostgreSQL when TEST_DATABASE_URL is set): names,
 * passwords, sign-up with a taken e-mail, the per-account sign-in throttle,
 * the token's payload and the list of enabled endpoints.
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, describe, expect, it, vi } from "vitest";
import { DISABLED_AUTH_PATHS, ENABLED_AUTH_ROUTES, isEnabledAuthRoute } from "@/lib/auth/endpoints";
import { PASSWORD_MIN_LENGTH, passwordProblem } from "@/lib/auth/password-policy";
import { MAX_FAILURES, consumeAttempt } from "@/lib/auth/sign-in-throttle";
import { createAuthOptions } from "@/lib/auth-options";
import { getMigrations } from "better-auth/db/migration";
import { getToken, makeAuth, migratedSqlite, signUp } from "../support/auth";
import { newSecret, tempDir } from "../support/services";

const BASE = "http://localhost:3000";
const PASSWORD = "correct-horse-battery";
const email = (who = "user") => `${who}-${randomUUID()}@example.com`;

/** The APIError a Better Auth API call throws, as `{status, code, message}` (or "ok"). */
async function outcome(call: Promise<unknown>) {
  try {
    await call;
    return "ok";
  } catch (err) {
    const e = err as { statusCode?: number; body?: { code?: string; message?: string } };
    return { status: e.statusCode, code: e.body?.code, message: e.body?.message };
  }
}

describe("names", () => {
  const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
  const signUpAs = (name: unknown, address = email()) =>
    auth.api.signUpEmail({ body: { email: address, password: PASSWORD, name: name as string } });

  it("trims the name on sign-up and stores the trimmed one", async () => {
    const { user } = await signUpAs("  Ada Lovelace \t");
    expect(user.name).toBe("Ada Lovelace");
    const stored = await (await auth.$context).internalAdapter.findUserById(user.id);
    expect(stored?.name).toBe("Ada Lovelace");
  });

  it.each([
    ["y".repeat(101), "NAME_TOO_LONG"],
    ["   ", "NAME_REQUIRED"],
    ["", "NAME_REQUIRED"],
    ["Bob\u0000", "NAME_INVALID"],
    ["Eve\u202Egnp.exe", "NAME_INVALID"],
    [42, "NAME_INVALID"],
  ])("refuses %j at sign-up (%s) and stores nothing", async (name, code) => {
    const address = email();
    expect(await outcome(signUpAs(name, address))).toMatchObject({ status: 400, code });
    expect(await (await auth.$context).internalAdapter.findUserByEmail(address)).toBeNull();
  });

  it("accepts 100 characters, and the token stays small whatever the name", async () => {
    const name = "\u00e9".repeat(100);
    const { userId, cookie } = await signUp(auth, email(), name);
    const token = await getToken(auth, cookie);
    expect(decodeJwt(token).sub).toBe(userId);
    expect(token).not.toContain(Buffer.from(name).toString("base64url").slice(0, 20));
    expect(token.length).toBeLessThan(400);
  });

  it("refuses a profile image", async () => {
    const call = auth.api.signUpEmail({
      body: { email: email(), password: PASSWORD, name: "Pic", image: "data:image/png;base64," + "A".repeat(9000) },
    });
    expect(await outcome(call)).toMatchObject({ status: 400, code: "IMAGE_NOT_SUPPORTED" });
  });

  it("applies the same rules to update-user (disabled over HTTP, checked all the same)", async () => {
    const { userId, cookie } = await signUp(auth, email(), "Before");
    const headers = new Headers({ cookie });
    const long = auth.api.updateUser({ headers, body: { name: "z".repeat(101) } });
    expect(await outcome(long)).toMatchObject({ status: 400, code: "NAME_TOO_LONG" });
    const blank = auth.api.updateUser({ headers, body: { name: " " } });
    expect(await outcome(blank)).toMatchObject({ status: 400, code: "NAME_REQUIRED" });
    await auth.api.updateUser({ headers, body: { name: "  After  " } });
    expect((await (await auth.$context).internalAdapter.findUserById(userId))?.name).toBe("After");
  });
});

describe("passwords", () => {
  const auth = makeAuth({ secret: newSecret(), baseURL: BASE });

  it("states each rule", () => {
    expect(PASSWORD_MIN_LENGTH).toBe(12);
    expect(passwordProblem("12345678")?.code).toBe("PASSWORD_TOO_SHORT");
    expect(passwordProblem("password")?.code).toBe("PASSWORD_TOO_SHORT");
    expect(passwordProblem(" ".repeat(8))?.code).toBe("PASSWORD_TOO_SHORT");
    expect(passwordProblem(" ".repeat(12))?.code).toBe("PASSWORD_ONLY_WHITESPACE");
    expect(passwordProblem("\t\n \u00a0".repeat(4))?.code).toBe("PASSWORD_ONLY_WHITESPACE");
    expect(passwordProblem("password1234")?.code).toBe("PASSWORD_TOO_COMMON");
    expect(passwordProblem("PassWord1234")?.code).toBe("PASSWORD_TOO_COMMON");
    expect(passwordProblem("  qwerty123456 ")?.code).toBe("PASSWORD_TOO_COMMON");
    expect(passwordProblem("x".repeat(129))?.code).toBe("PASSWORD_TOO_LONG");
    expect(passwordProblem("correct horse battery staple")).toBeNull();
    expect(passwordProblem("a".repeat(128))).toBeNull();
  });

  it.each(["12345678", "password", " ".repeat(8), " ".repeat(12), "password1234", "1q2w3e4r5t6y"])(
    "sign-up refuses %j and creates no account",
    async (password) => {
      const address = email("weak");
      const call = auth.api.signUpEmail({ body: { email: address, password, name: "Weak" } });
      expect(await outcome(call)).toMatchObject({ status: 400 });
      expect(await (await auth.$context).internalAdapter.findUserByEmail(address)).toBeNull();
    },
  );

  it("change-password (disabled over HTTP) holds a new password to the same rules", async () => {
    const { cookie } = await signUp(auth, email());
    const call = auth.api.changePassword({
      headers: new Headers({ cookie }),
      body: { currentPassword: PASSWORD, newPassword: "qwerty123456" },
    });
    expect(await outcome(call)).toMatchObject({ status: 400, code: "PASSWORD_TOO_COMMON" });
  });
});

describe("sign-up with an e-mail that has an account", () => {
  it("answers 422 SIGN_UP_FAILED, with no word of an existing account, after hashing the password like a new sign-up", async () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
    const address = email("taken");
    await signUp(auth, address);
    const ctx = await auth.$context;
    const hash = vi.spyOn(ctx.password, "hash");
    try {
      const again = await outcome(
        auth.api.signUpEmail({ body: { email: address, password: "another-good-password", name: "X" } }),
      );
      expect(again).toMatchObject({ status: 422, code: "SIGN_UP_FAILED" });
      expect((again as { message: string }).message).not.toMatch(/exist/i);
      // Same work as a new account (Better Auth skips the hash for a taken address).
      expect(hash).toHaveBeenCalledTimes(1);
      hash.mockClear();
      await auth.api.signUpEmail({ body: { email: email("new"), password: "another-good-password", name: "Y" } });
      expect(hash).toHaveBeenCalledTimes(1);
    } finally {
      hash.mockRestore();
    }
  });
});

// Each sign-in attempt costs a scrypt hash (about 0.1-0.3 s here).
describe("per-account sign-in throttle", { timeout: 60_000 }, () => {
  it(`allows ${MAX_FAILURES} failed sign-ins, then refuses every sign-in for that address with 429; others unaffected`, async () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
    const victim = email("victim");
    const other = email("other");
    await signUp(auth, victim);
    await signUp(auth, other);
    const signIn = (address: string, password: string) =>
      outcome(auth.api.signInEmail({ body: { email: address, password } }));

    const failures = [];
    for (let i = 0; i < MAX_FAILURES; i++) failures.push(await signIn(victim, `wrong-password-${i}`));
    expect(failures.map((f) => (f as { status: number }).status)).toEqual(Array(MAX_FAILURES).fill(401));

    const locked = await signIn(victim.toUpperCase(), PASSWORD); // the same account, however it is spelt
    expect(locked).toMatchObject({ status: 429, code: "TOO_MANY_FAILED_SIGN_INS" });
    expect(await signIn(other, PASSWORD)).toBe("ok");
    // An unknown address is counted like a known one: the 429 tells nothing.
    const ghost = email("ghost");
    for (let i = 0; i < MAX_FAILURES; i++) await signIn(ghost, `wrong-password-${i}`);
    expect(await signIn(ghost, PASSWORD)).toMatchObject({ status: 429, code: "TOO_MANY_FAILED_SIGN_INS" });
  });

  it("a successful sign-in clears the failures before it", async () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
    const user = email();
    await signUp(auth, user);
    const signIn = (password: string) => outcome(auth.api.signInEmail({ body: { email: user, password } }));
    for (let i = 0; i < MAX_FAILURES - 1; i++) await signIn(`wrong-password-${i}`);
    expect(await signIn(PASSWORD)).toBe("ok");
    for (let i = 0; i < MAX_FAILURES - 1; i++) await signIn(`wrong-password-${i}`);
    expect(await signIn(PASSWORD)).toBe("ok");
  });

  describe("on SQLite", () => {
    const dir = tempDir("todo-throttle-");
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("counts a window, reopens after it, and lets no concurrent attempt past the limit", async () => {
      const settings = { secret: newSecret(), baseURL: BASE };
      const db = await migratedSqlite(join(dir, "auth.sqlite"), settings);
      try {
        const adapter = (await makeAuth({ ...settings, database: db.database }).$context).adapter as never;
        const limits = { max: 10, windowSeconds: 900 };
        const t0 = 1_700_000_000_000;
        const concurrent = await Promise.all(
          Array.from({ length: 30 }, () => consumeAttempt(adapter, "k1", t0 + 1000, limits)),
        );
        expect(concurrent.filter((d) => d.allowed)).toHaveLength(10);
        const refused = await consumeAttempt(adapter, "k1", t0 + 61_000, limits);
        expect(refused).toEqual({ allowed: false, retryAfter: 840 });
        expect((await consumeAttempt(adapter, "k1", t0 + 901_000, limits)).allowed).toBe(true);
        expect((await consumeAttempt(adapter, "k2", t0 + 1000, limits)).allowed).toBe(true);
      } finally {
        await db.close();
      }
    });
  });

  const PG_URL = process.env.TEST_DATABASE_URL?.startsWith("postgres") ? process.env.TEST_DATABASE_URL : undefined;
  describe.skipIf(!PG_URL)("on PostgreSQL", () => {
    it("lets no concurrent attempt past the limit", async () => {
      const { Pool } = await import("pg");
      const schema = `web_throttle_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      const admin = new Pool({ connectionString: PG_URL, max: 1 });
      await admin.query(`create schema "${schema}"`);
      const pool = new Pool({ connectionString: PG_URL, options: `-c search_path=${schema}`, max: 8 });
      try {
        const settings = { secret: newSecret(), baseURL: BASE, mode: "hs256" as const, database: pool };
        await (await getMigrations(createAuthOptions(settings))).runMigrations();
        const adapter = (await makeAuth(settings).$context).adapter as never;
        const decisions = await Promise.all(
          Array.from({ length: 30 }, () => consumeAttempt(adapter, "pg", Date.now(), { max: 10, windowSeconds: 900 })),
        );
        expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
      } finally {
        await pool.end();
        await admin.query(`drop schema "${schema}" cascade`);
        await admin.end();
      }
    });
  });
});

describe("endpoints", () => {
  it("every Better Auth endpoint is either enabled or disabled, and the lists name real ones", () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
    const served = Object.values(auth.api)
      .map((endpoint) => (endpoint as { path?: string }).path)
      .filter((path): path is string => typeof path === "string");
    const listed = [...Object.keys(ENABLED_AUTH_ROUTES), ...DISABLED_AUTH_PATHS];
    expect([...served].sort()).toEqual([...listed].sort());
    const options = createAuthOptions({ secret: newSecret(), baseURL: BASE, mode: "hs256", database: undefined });
    expect(options.disabledPaths).toEqual(DISABLED_AUTH_PATHS);
  });

  it("lets through only the enabled method and exact path", () => {
    expect(isEnabledAuthRoute("POST", "/sign-in/email")).toBe(true);
    expect(isEnabledAuthRoute("GET", "/token")).toBe(true);
    expect(isEnabledAuthRoute("HEAD", "/ok")).toBe(true);
    expect(isEnabledAuthRoute("GET", "/sign-in/email")).toBe(false);
    expect(isEnabledAuthRoute("POST", "/verify-password")).toBe(false);
    expect(isEnabledAuthRoute("POST", "/sign-in/email/")).toBe(false);
    expect(isEnabledAuthRoute("GET", "/Token")).toBe(false);
    expect(isEnabledAuthRoute("GET", "/to%6Ben")).toBe(false);
    expect(isEnabledAuthRoute("GET", "/constructor")).toBe(false);
    expect(isEnabledAuthRoute("GET", null)).toBe(false);
  });

  it("Better Auth itself answers 404 for the disabled paths", async () => {
    const auth = makeAuth({ secret: newSecret(), baseURL: BASE });
    const { cookie } = await signUp(auth, email());
    for (const path of DISABLED_AUTH_PATHS.filter((p) => !p.includes(":"))) {
      const res = await auth.handler(
        new Request(`${BASE}/api/auth${path}`, {
          method: "POST",
          headers: { cookie, origin: BASE, "content-type": "application/json" },
          body: JSON.stringify({ password: PASSWORD }),
        }),
      );
      expect([path, res.status]).toEqual([path, 404]);
    }
  });
});
