/**
 * Against the production build (`next start`), request by request: only the
 * Better Auth endpoints the app uses answer (the others 404, the used ones
 * work); bodies over 16 KiB are refused with 413 before parsing; names are
 * trimmed and bounded; the token carries no name or e-mail; answers with
 * tokens or session data are `no-store`; a sign-up with a taken e-mail gets
 * a generic answer; weak passwords are refused.
 *
 * The app trusts 127.0.0.1 as its proxy here, so every request names its own
 * client address in X-Forwarded-For and Better Auth's per-address limits (3
 * sign-ups per 10 s) never get in the way.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DISABLED_AUTH_PATHS } from "@/lib/auth/endpoints";
import { Services, newSecret } from "../support/services";
import { migrate, startWeb, webEnv } from "../support/web";

const services = new Services("todo-web-api-");
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") failed = true;
});
afterAll(() => services.stop({ failed }));

let web = "";
beforeAll(async () => {
  const env = webEnv(join(services.dir, "auth.sqlite"), {
    BETTER_AUTH_SECRET: newSecret(),
    AUTH_TRUSTED_PROXIES: "127.0.0.1",
  });
  await migrate(services, env);
  ({ url: web } = await startWeb(services, env, { host: "127.0.0.1" }));
});

let clients = 0;
/** A client address of its own for every request (see the file comment). */
const nextClient = () => `198.18.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

async function api(
  path: string,
  { method = "GET", body, cookie }: { method?: string; body?: BodyInit | object; cookie?: string } = {},
) {
  const headers: Record<string, string> = { origin: web, "x-forwarded-for": nextClient() };
  if (cookie) headers.cookie = cookie;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    const raw = typeof body === "string" || body instanceof ReadableStream || body instanceof Uint8Array;
    payload = raw ? (body as BodyInit) : JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  return fetch(`${web}/api/auth${path}`, {
    method,
    headers,
    body: payload,
    ...(payload instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

const PASSWORD = "correct-horse-battery-staple";
const uniqueEmail = (who = "api") => `${who}-${randomUUID()}@example.com`;

/** Signs up; returns the session cookie and the response. */
async function signUp(email = uniqueEmail(), name = "Api Test", password = PASSWORD) {
  const res = await api("/sign-up/email", { method: "POST", body: { email, password, name } });
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
  return { res, cookie, email };
}

describe("only the endpoints the app uses", () => {
  it("the app's own endpoints work: sign-up, get-session, token, sign-out, sign-in, ok", async () => {
    const { res, cookie, email } = await signUp();
    expect(res.status).toBe(200);
    expect((await api("/get-session", { cookie })).status).toBe(200);
    expect((await api("/token", { cookie })).status).toBe(200);
    expect((await api("/sign-out", { method: "POST", body: {}, cookie })).status).toBe(200);
    expect((await api("/sign-in/email", { method: "POST", body: { email, password: PASSWORD } })).status).toBe(200);
    expect((await api("/ok")).status).toBe(200);
  });

  it("every other Better Auth endpoint answers 404, with a session too", async () => {
    const { cookie } = await signUp();
    const probes = DISABLED_AUTH_PATHS.map((p) => p.replace(":id", "google").replace(":token", "some-token"));
    const seen: Record<string, number[]> = {};
    for (const path of probes) {
      const get = await api(path, { cookie });
      const post = await api(path, { method: "POST", body: { password: PASSWORD, newPassword: PASSWORD }, cookie });
      seen[path] = [get.status, post.status];
    }
    expect(seen).toEqual(Object.fromEntries(probes.map((p) => [p, [404, 404]])));
    // The example: guessing the password through /verify-password.
    const guess = await api("/verify-password", { method: "POST", body: { password: "guess-1234567" }, cookie });
    expect(guess.status).toBe(404);
    // Enabled paths with the wrong method are not a way around it either.
    expect((await api("/token", { method: "POST", body: {}, cookie })).status).toBe(404);
  });
});

describe("bounded input", () => {
  it("refuses a body over 16 KiB with 413, with Content-Length and chunked", async () => {
    const big = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: "x".repeat(17 * 1024) });
    const declared = await api("/sign-up/email", { method: "POST", body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: "BODY_TOO_LARGE" });

    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
          controller.close();
        },
      });
    };
    const streamed = await api("/sign-up/email", { method: "POST", body: chunked(big) });
    expect(streamed.status).toBe(413);
    // A chunked body under the limit goes through.
    const small = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: "Chunked" });
    const fine = await api("/sign-up/email", { method: "POST", body: chunked(small) });
    expect(fine.status, await fine.clone().text()).toBe(200);

    // The 30 MB name: refused, nothing stored.
    const email = uniqueEmail("huge");
    const huge = await api("/sign-up/email", {
      method: "POST",
      body: JSON.stringify({ email, password: PASSWORD, name: "n".repeat(30 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const signIn = await api("/sign-in/email", { method: "POST", body: { email, password: PASSWORD } });
    expect(signIn.status).toBe(401);
  });

  it("trims the name, refuses one over 100 characters or blank, and keeps it out of the token", async () => {
    const long = await signUp(uniqueEmail(), "y".repeat(101));
    expect(long.res.status).toBe(400);
    expect(await long.res.json()).toMatchObject({ code: "NAME_TOO_LONG" });
    const blank = await signUp(uniqueEmail(), "   ");
    expect(blank.res.status).toBe(400);

    const name = "z".repeat(100);
    const { res, cookie } = await signUp(uniqueEmail(), `  ${name}  `);
    expect(res.status).toBe(200);
    const session = (await (await api("/get-session", { cookie })).json()) as { user: { id: string; name: string } };
    expect(session.user.name).toBe(name);

    const { token } = (await (await api("/token", { cookie })).json()) as { token: string };
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(["aud", "exp", "iat", "iss", "sid", "sub"]);
    expect(claims.sub).toBe(session.user.id);
    expect(token.length).toBeLessThan(400);
  });
});

describe("caching", () => {
  it("answers carrying a token, a session or a cookie are no-store", async () => {
    const email = uniqueEmail();
    const { res: up, cookie } = await signUp(email);
    const answers = {
      "sign-up": up,
      "get-session": await api("/get-session", { cookie }),
      token: await api("/token", { cookie }),
      "sign-in": await api("/sign-in/email", { method: "POST", body: { email, password: PASSWORD } }),
      "sign-out": await api("/sign-out", { method: "POST", body: {}, cookie }),
      "token, signed out": await api("/token", { cookie }),
    };
    const cacheControl = Object.fromEntries(
      Object.entries(answers).map(([k, r]) => [k, r.headers.get("cache-control")]),
    );
    expect(cacheControl).toEqual(Object.fromEntries(Object.keys(answers).map((k) => [k, "no-store"])));
  });
});

describe("sign-up with an e-mail that has an account", () => {
  it("gets a generic answer that names no account", async () => {
    const { email } = await signUp();
    const again = await signUp(email, "Someone Else", "another-long-password-1");
    expect(again.res.status).toBe(422);
    const body = (await again.res.json()) as { code: string; message: string };
    expect(body.code).toBe("SIGN_UP_FAILED");
    expect(body.message).not.toMatch(/exist/i);
    expect(again.cookie).not.toContain("session_token");
  });
});

describe("password rules", () => {
  it.each([
    ["12345678", "PASSWORD_TOO_SHORT"],
    ["password", "PASSWORD_TOO_SHORT"],
    [" ".repeat(8), "PASSWORD_TOO_SHORT"],
    [" ".repeat(12), "PASSWORD_ONLY_WHITESPACE"],
    ["password1234", "PASSWORD_TOO_COMMON"],
    ["Qwerty123456", "PASSWORD_TOO_COMMON"],
  ])("refuses %j (%s)", async (password, code) => {
    const email = uniqueEmail("weak");
    const { res } = await signUp(email, "Weak Password", password);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code });
    // Nothing was created.
    expect((await api("/sign-in/email", { method: "POST", body: { email, password } })).status).toBe(401);
  });
});
