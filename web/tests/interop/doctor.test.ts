/**
 * The doctor (`just doctor`, crates/doctor) against a REAL Better Auth built
 * from the app's own options and served over HTTP, and the REAL Rust edge +
 * tasks: one correct setup per mode passes (exit 0), and each usual mistake
 * gets its ✗ line and exit 1: the web app and the backend holding different
 * secrets, BETTER_AUTH_URL with a trailing slash or another issuer, the web
 * app in jwks mode while the backend is in hs256 and the reverse, Better
 * Auth down, the edge and tasks down, a session cookie sent as the token.
 *
 * The doctor reads its settings from the environment, as the services do;
 * it is given only the variables below (no inherited AUTH_* or CONFIG_FILE).
 * Binary: DOCTOR_BIN, default ../target/debug/doctor.
 */
import { execFile } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { makeAuth, serveAuth, signUp, type HttpServed } from "../support/auth";
import { binPath, freePort, newSecret, startBackend, type Backend } from "../support/services";
import { testServices } from "../support/test-services";

const servers: HttpServed[] = [];
const services = testServices("todo-interop-doctor-", () => Promise.all(servers.map((s) => s.close())));

const PASSWORD = "correct-horse-battery"; // signUp's default
type Env = Record<string, string | undefined>;

interface Outcome {
  code: number | null;
  lines: string[];
}

/** Runs the doctor with exactly `env` (plus PATH) and `args`. */
function doctor(env: Env, args: string[] = []): Promise<Outcome> {
  const bin = binPath("DOCTOR_BIN", "doctor");
  const clean: Record<string, string> = { PATH: process.env.PATH ?? "" };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) clean[key] = value;
  return new Promise((ok) => {
    execFile(bin, args, { env: clean as NodeJS.ProcessEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      ok({ code, lines: `${stdout}${stderr}`.split("\n").filter((l) => l.length > 0) });
    });
  });
}

/** The one line of check `name` with mark `mark`, or a failure showing every line. */
function line(outcome: Outcome, mark: "✓" | "✗" | "!" | "–", name: string): string {
  const found = outcome.lines.filter((l) => l.startsWith(`${mark} ${name}: `));
  expect(found, outcome.lines.join("\n")).toHaveLength(1);
  return found[0]!;
}

function failures(outcome: Outcome): string[] {
  return outcome.lines.filter((l) => l.startsWith("✗ "));
}

/** A served Better Auth in `mode` with one signed-up user. */
async function betterAuth(mode: "hs256" | "jwks", secret = newSecret()) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const auth = makeAuth({ secret, baseURL: origin, mode });
  const server = await serveAuth(auth, port);
  servers.push(server);
  const email = `doctor-${mode}-${port}@example.com`;
  const { userId, cookie } = await signUp(auth, email, "Doctor", PASSWORD);
  return { origin, secret, email, userId, cookie };
}

/** The backend's environment, as the doctor reads it. */
function backendEnv(backend: Backend, settings: Env): Env {
  return {
    TASKS_URL: `http://${backend.tasksAddr}`,
    EDGE_LISTEN_ADDR: backend.edgeUrl.replace("http://", ""),
    // The details behind the edge's public /readyz are on its admin listener.
    EDGE_ADMIN_LISTEN_ADDR: backend.edgeAdminAddr,
    DOCTOR_PASSWORD: PASSWORD,
    ...settings,
  };
}

describe("the doctor with an hs256 setup", () => {
  let web: Awaited<ReturnType<typeof betterAuth>>;
  let good: Env;
  const internal = newSecret();

  beforeAll(async () => {
    web = await betterAuth("hs256");
    const backend = await startBackend(services, {
      betterAuthSecret: web.secret,
      betterAuthUrl: web.origin,
      internalSecret: internal,
    });
    good = backendEnv(backend, {
      BETTER_AUTH_SECRET: web.secret,
      BETTER_AUTH_URL: web.origin,
      INTERNAL_AUTH_SECRET: internal,
      AUTH_JWT_MODE: "hs256",
    });
  });

  it("passes every check of a correct setup, signing in as the user (exit 0)", async () => {
    const outcome = await doctor(good, ["--email", web.email]);
    expect(failures(outcome), outcome.lines.join("\n")).toEqual([]);
    expect(outcome.code, outcome.lines.join("\n")).toBe(0);
    for (const name of ["edge configuration", "tasks configuration", "auth-verify configuration", "BETTER_AUTH_URL"]) {
      line(outcome, "✓", name);
    }
    expect(line(outcome, "✓", "JWKS")).toContain("answers 404, as expected");
    line(outcome, "✓", "Better Auth");
    line(outcome, "✓", "clock skew");
    line(outcome, "✓", "edge");
    line(outcome, "✓", "edge readiness");
    line(outcome, "✓", "tasks");
    line(outcome, "–", "auth-verify");
    expect(line(outcome, "✓", "token alg")).toContain("HS256");
    expect(line(outcome, "✓", "token iss")).toContain(web.origin);
    expect(line(outcome, "✓", "token sub")).toContain(web.userId);
    expect(line(outcome, "✓", "token lifetime")).toMatch(/issued for 900s/);
    line(outcome, "✓", "token signature");
    expect(line(outcome, "✓", "edge accepts the token")).toContain(`/api/${web.userId}/tasks answers 200`);
    expect(outcome.lines.at(-1)).toBe("all checks passed");
  });

  it("finds a backend in both mode against the HS256 web app, which publishes no keys (never ready)", async () => {
    const backend = await startBackend(services, {
      betterAuthSecret: web.secret,
      betterAuthUrl: web.origin,
      internalSecret: internal,
      mode: "both",
      label: "both",
      waitReady: false,
    });
    const env = { ...good, ...backendEnv(backend, { AUTH_JWT_MODE: "both" }) };
    const outcome = await doctor(env, ["--email", web.email]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "JWKS")).toContain("set AUTH_JWT_MODE=hs256 on the backend");
    expect(line(outcome, "✗", "edge readiness")).toContain("JWKS keys not loaded");
    line(outcome, "✓", "token alg");
  });

  it("finds the backend holding another secret than the web app", async () => {
    const wrong = newSecret();
    const backend = await startBackend(services, {
      betterAuthSecret: wrong,
      betterAuthUrl: web.origin,
      internalSecret: internal,
      label: "wrong-secret",
    });
    const env = { ...good, ...backendEnv(backend, { BETTER_AUTH_SECRET: wrong }) };
    const outcome = await doctor(env, ["--email", web.email]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "token signature")).toContain("another BETTER_AUTH_SECRET");
    expect(line(outcome, "✗", "edge accepts the token")).toContain("answers 401");
    expect(failures(outcome)).toHaveLength(2);
  });

  it("finds a short secret as the services would refuse it", async () => {
    const outcome = await doctor({ ...good, BETTER_AUTH_SECRET: "short" });
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "edge configuration")).toContain("BETTER_AUTH_SECRET is only 5 bytes long");
    line(outcome, "✗", "auth-verify configuration");
    line(outcome, "✓", "tasks configuration");
  });

  it("finds BETTER_AUTH_URL with a trailing slash, and another configured issuer", async () => {
    const slash = await doctor({ ...good, BETTER_AUTH_URL: `${web.origin}/` }, ["--email", web.email]);
    expect(slash.code).toBe(1);
    expect(line(slash, "✗", "BETTER_AUTH_URL")).toContain(`set BETTER_AUTH_URL=${web.origin} `);
    expect(line(slash, "✗", "token iss")).toContain("trailing slash");
    line(slash, "✗", "token aud");

    const issuer = await doctor({ ...good, AUTH_JWT_ISSUER: "https://id.example" }, ["--email", web.email]);
    expect(issuer.code).toBe(1);
    expect(line(issuer, "✗", "token iss")).toContain(`"${web.origin}", expected "https://id.example"`);
    line(issuer, "✓", "token aud");
  });

  it("finds a backend in jwks mode while the web app signs HS256", async () => {
    const outcome = await doctor({ ...good, AUTH_JWT_MODE: "jwks", BETTER_AUTH_SECRET: undefined }, [
      "--email",
      web.email,
    ]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "JWKS")).toContain("answers 404: Better Auth publishes no keys");
    expect(line(outcome, "✗", "token alg")).toContain("never accepts HS256");
  });

  it("finds Better Auth down", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const outcome = await doctor({ ...good, BETTER_AUTH_URL: down }, ["--email", web.email]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "Better Auth")).toContain("cannot connect");
    line(outcome, "–", "sign-in");
  });

  it("finds the edge and tasks down", async () => {
    const [edgePort, tasksPort] = [await freePort(), await freePort()];
    const outcome = await doctor({ ...good, TASKS_URL: `http://127.0.0.1:${tasksPort}` }, [
      "--email",
      web.email,
      "--edge",
      `http://127.0.0.1:${edgePort}`,
    ]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "edge")).toContain("cannot connect");
    line(outcome, "✗", "tasks");
    expect(line(outcome, "✗", "edge accepts the token")).toContain("cannot connect");
    line(outcome, "✓", "token signature"); // the token itself is fine
  });

  it("names a session cookie sent instead of the JWT", async () => {
    const value = decodeURIComponent(web.cookie.split("=")[1]!.split(";")[0]!);
    const outcome = await doctor(good, ["--token", value]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "token format")).toContain("signed session cookie");
  });
});

describe("the doctor with a jwks setup", () => {
  let web: Awaited<ReturnType<typeof betterAuth>>;
  let good: Env;
  const internal = newSecret();

  beforeAll(async () => {
    web = await betterAuth("jwks");
    const backend = await startBackend(services, {
      betterAuthUrl: web.origin,
      mode: "jwks",
      internalSecret: internal,
      label: "jwks",
    });
    good = backendEnv(backend, { BETTER_AUTH_URL: web.origin, INTERNAL_AUTH_SECRET: internal, AUTH_JWT_MODE: "jwks" });
  });

  it("passes every check of a correct setup, the key published and usable (exit 0)", async () => {
    const outcome = await doctor(good, ["--email", web.email]);
    expect(failures(outcome), outcome.lines.join("\n")).toEqual([]);
    expect(outcome.code).toBe(0);
    expect(line(outcome, "✓", "JWKS")).toMatch(/1 usable key\(s\) \[[\w-]+:EdDSA\]/);
    expect(line(outcome, "✓", "token alg")).toContain("a key the JWKS publishes");
    line(outcome, "✓", "token signature");
    line(outcome, "✓", "edge accepts the token");
  });

  it("finds a backend in hs256 mode while the web app signs with its own keys", async () => {
    const outcome = await doctor({ ...good, AUTH_JWT_MODE: "hs256", BETTER_AUTH_SECRET: newSecret() }, [
      "--email",
      web.email,
    ]);
    expect(outcome.code).toBe(1);
    expect(line(outcome, "✗", "JWKS")).toContain("publishes 1 key(s)");
    expect(line(outcome, "✗", "token alg")).toContain("EdDSA");
  });
});
