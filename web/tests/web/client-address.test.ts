/**
 * Against the production build (`next start`): the address Better Auth's rate
 * limits count is the socket's (direct `next start`, compose) or the one the
 * trusted proxy appended (AUTH_TRUSTED_PROXIES), never one the client made
 * up; the limits live in the database (replicas share them); and the
 * per-account sign-in throttle holds whatever address the guesses come from,
 * across a restart.
 *
 * Connecting from 127.0.0.2, 127.0.0.3, … (the client socket bound to that
 * loopback address) gives a test clients with different socket addresses on
 * one machine.
 */
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Services, newSecret } from "../support/services";
import { migrate, startWeb, webEnv } from "../support/web";

const services = new Services("todo-web-ip-");
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});
afterAll(() => services.stop({ failed }));

const PASSWORD = "correct-horse-battery-staple";
const uniqueEmail = () => `ip-${randomUUID()}@example.com`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A POST to /api/auth`path` on the app at 127.0.0.1:`port`, from the client
 * address `from` (a loopback address the socket is bound to), with extra headers.
 */
function post(port: number, path: string, body: unknown, { from = "127.0.0.1", headers = {} } = {}) {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise<Answer>((ok, fail) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        localAddress: from,
        path: `/api/auth${path}`,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": payload.length,
          origin: `http://127.0.0.1:${port}`,
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    req.end(payload);
  });
}

async function signUp(port: number, email: string, opts: { from?: string; headers?: Record<string, string> } = {}) {
  const res = await post(port, "/sign-up/email", { email, password: PASSWORD, name: "Ip Test" }, opts);
  expect(res.status, res.body).toBe(200);
}

/** Sign-in statuses, one attempt after another. */
async function attempts(
  port: number,
  email: string,
  passwords: string[],
  opts: (i: number) => { from?: string; headers?: Record<string, string> },
) {
  const statuses: number[] = [];
  for (const [i, password] of passwords.entries()) {
    statuses.push((await post(port, "/sign-in/email", { email, password }, opts(i))).status);
  }
  return statuses;
}

const wrong = (n: number) => Array.from({ length: n }, (_, i) => `wrong-password-${i}-xyz`);

describe("direct `next start` (no trusted proxy): the socket's address", () => {
  let port = 0;
  beforeAll(async () => {
    const env = webEnv(join(services.dir, "direct.sqlite"), { BETTER_AUTH_SECRET: newSecret() });
    await migrate(services, env, "migrate-direct");
    ({ port } = await startWeb(services, env, { name: "web-direct", host: "127.0.0.1" }));
  });

  it("a different forged X-Forwarded-For on every guess does not escape the sign-in limit", async () => {
    const email = uniqueEmail();
    await signUp(port, email, { from: "127.0.0.2" });
    // Better Auth's sign-in rule: 3 per 10 s per address.
    const statuses = await attempts(port, email, [...wrong(3), PASSWORD], (i) => ({
      from: "127.0.0.2",
      headers: { "x-forwarded-for": `198.51.100.${i + 1}` },
    }));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it("a multi-valued X-Forwarded-For does not put every client into one shared bucket", async () => {
    const email = uniqueEmail();
    await signUp(port, email, { from: "127.0.0.3" });
    const chain = { "x-forwarded-for": "203.0.113.9, 10.1.2.3" };
    const attacker = await attempts(port, email, wrong(4), () => ({ from: "127.0.0.3", headers: chain }));
    expect(attacker).toEqual([401, 401, 401, 429]);
    // Another client sending the same kind of header still has its own three tries.
    const other = await attempts(port, email, [PASSWORD], () => ({ from: "127.0.0.4", headers: chain }));
    expect(other).toEqual([200]);
  });
});

describe("behind a proxy (AUTH_TRUSTED_PROXIES=127.0.0.1): the address the proxy appended", () => {
  let port = 0;
  beforeAll(async () => {
    const env = webEnv(join(services.dir, "proxied.sqlite"), {
      BETTER_AUTH_SECRET: newSecret(),
      AUTH_TRUSTED_PROXIES: "127.0.0.1",
    });
    await migrate(services, env, "migrate-proxied");
    ({ port } = await startWeb(services, env, { name: "web-proxied", host: "127.0.0.1" }));
  });

  it("counts each client by the address its proxy appended, whatever the client put before it", async () => {
    const email = uniqueEmail();
    await signUp(port, email, { headers: { "x-forwarded-for": "192.0.2.200" } });
    // The proxy (127.0.0.1, the socket) appended 203.0.113.7; the rest is the client's own word.
    const attacker = await attempts(port, email, wrong(4), (i) => ({
      headers: { "x-forwarded-for": `198.51.100.${i + 1}, 203.0.113.7` },
    }));
    expect(attacker).toEqual([401, 401, 401, 429]);
    const other = await attempts(port, email, [PASSWORD], () => ({
      headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.8" },
    }));
    expect(other).toEqual([200]);
  });

  it("ignores X-Forwarded-For from a sender that is not a trusted proxy", async () => {
    const email = uniqueEmail();
    await signUp(port, email, { headers: { "x-forwarded-for": "192.0.2.201" } });
    const statuses = await attempts(port, email, wrong(4), (i) => ({
      from: "127.0.0.5",
      headers: { "x-forwarded-for": `203.0.113.${100 + i}` },
    }));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe("limits in the database", () => {
  const file = () => join(services.dir, "shared.sqlite");
  let env: Record<string, string | undefined> = {};
  let ports: number[] = [];

  beforeAll(async () => {
    env = webEnv(file(), { BETTER_AUTH_SECRET: newSecret(), AUTH_TRUSTED_PROXIES: "127.0.0.1" });
    await migrate(services, env, "migrate-shared");
    const a = await startWeb(services, env, { name: "web-replica-a", host: "127.0.0.1" });
    const b = await startWeb(services, env, { name: "web-replica-b", host: "127.0.0.1" });
    ports = [a.port, b.port];
  });

  it("two replicas on one database share the per-address limit", async () => {
    const email = uniqueEmail();
    await signUp(ports[0]!, email, { headers: { "x-forwarded-for": "192.0.2.202" } });
    const from = { headers: { "x-forwarded-for": "203.0.113.20" } };
    const statuses = [
      (await post(ports[0]!, "/sign-in/email", { email, password: "wrong-password-a1" }, from)).status,
      (await post(ports[1]!, "/sign-in/email", { email, password: "wrong-password-b1" }, from)).status,
      (await post(ports[0]!, "/sign-in/email", { email, password: "wrong-password-a2" }, from)).status,
      (await post(ports[1]!, "/sign-in/email", { email, password: PASSWORD }, from)).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it("the per-account throttle: 10 failures from 10 addresses, then even the right password waits, across replicas and a restart", async () => {
    const email = uniqueEmail();
    const bystander = uniqueEmail();
    await signUp(ports[0]!, email, { headers: { "x-forwarded-for": "192.0.2.203" } });
    await signUp(ports[1]!, bystander, { headers: { "x-forwarded-for": "192.0.2.204" } });
    // Every guess from its own address, alternating replicas: no per-address limit is reached.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await post(
        ports[i % 2]!,
        "/sign-in/email",
        { email, password: `wrong-password-${i}-xyz` },
        { headers: { "x-forwarded-for": `198.18.0.${i + 1}` } },
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array(10).fill(401));

    const locked = await post(
      ports[0]!,
      "/sign-in/email",
      { email, password: PASSWORD },
      { headers: { "x-forwarded-for": "198.18.1.1" } },
    );
    expect(locked.status).toBe(429);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(800); // the 15-minute window
    expect(JSON.parse(locked.body)).toMatchObject({ code: "TOO_MANY_FAILED_SIGN_INS" });

    // Another account, from the very same addresses, is not affected.
    const other = await post(
      ports[1]!,
      "/sign-in/email",
      { email: bystander, password: PASSWORD },
      { headers: { "x-forwarded-for": "198.18.0.1" } },
    );
    expect(other.status).toBe(200);

    // A restarted app (same database) still refuses that account.
    await services.stopOne("web-replica-a");
    const again = await startWeb(services, env, { name: "web-replica-c", host: "127.0.0.1" });
    const still = await post(
      again.port,
      "/sign-in/email",
      { email, password: PASSWORD },
      { headers: { "x-forwarded-for": "198.18.1.2" } },
    );
    expect(still.status).toBe(429);
  });
});
