import { describe, expect, it, vi } from "vitest";
import {
  ApiError,
  SESSION_EXPIRED_TYPE,
  TodoApi,
  TokenCache,
  decodeJwtTimes,
  errorFromResponse,
  sessionExpiredError,
  type Task,
} from "@/lib/api-client";

// ---------------------------------------------------------------- helpers

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An unsigned JWT-shaped token; the client only decodes, the edge verifies. */
function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(claims)}.c2ln`;
}

const T0 = 1_800_000_000; // seconds

function tokenAt(iatSec: number, lifetimeSec = 900, extra: Record<string, unknown> = {}) {
  return fakeJwt({ sub: "user-1", iat: iatSec, exp: iatSec + lifetimeSec, ...extra });
}

class Clock {
  constructor(public ms: number) {}
  now = () => this.ms;
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

const task: Task = {
  id: 1,
  user_id: "user-1",
  title: "Buy milk",
  description: null,
  completed: false,
  created_at: "2026-11-25T10:00:00Z",
  updated_at: "2026-11-25T10:00:00Z",
};

function json(body: unknown, status = 200, type = "application/json") {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
}

function problem(status: number, title: string, detail: string) {
  return json({ type: "about:blank", title, status, detail }, status, "application/problem+json");
}

function setup(responses: Array<Response | Error | ((req: Request) => Response)>) {
  const clock = new Clock(T0 * 1000);
  let issued = 0;
  const source = vi.fn(async () => tokenAt(Math.floor(clock.ms / 1000), 900, { n: ++issued }));
  const tokens = new TokenCache(source, { now: clock.now });
  const requests: Request[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    requests.push(req);
    const next = responses.shift();
    if (next === undefined) throw new Error("unexpected request " + req.url);
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next(req) : next;
  });
  const api = new TodoApi({
    baseUrl: "http://edge.test:8080/",
    userId: "user-1",
    tokens,
    fetch: fetchMock as unknown as typeof fetch,
  });
  return { api, tokens, source, requests, fetchMock, clock };
}

function bearerClaims(req: Request): Record<string, unknown> {
  const auth = req.headers.get("authorization") ?? "";
  expect(auth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  return JSON.parse(Buffer.from(auth.slice(7).split(".")[1]!, "base64url").toString());
}

// ---------------------------------------------------------------- tests

describe("decodeJwtTimes", () => {
  it("reads exp and iat from the payload", () => {
    expect(decodeJwtTimes(tokenAt(T0))).toEqual({ iat: T0, exp: T0 + 900 });
  });
  it("returns null for garbage", () => {
    expect(decodeJwtTimes("not-a-jwt")).toBeNull();
    expect(decodeJwtTimes("a.%%%.c")).toBeNull();
  });
});

describe("TokenCache", () => {
  it("reuses the token before it expires and refreshes shortly before exp", async () => {
    const clock = new Clock(T0 * 1000);
    let n = 0;
    const source = vi.fn(async () => tokenAt(Math.floor(clock.ms / 1000), 900, { n: ++n }));
    const cache = new TokenCache(source, { now: clock.now, refreshMarginMs: 60_000 });

    const first = await cache.get();
    clock.advance(60);
    expect(await cache.get()).toBe(first);
    clock.advance(900 - 60 - 61); // 61 s before exp: still cached
    expect(await cache.get()).toBe(first);
    expect(source).toHaveBeenCalledTimes(1);

    clock.advance(2); // 59 s before exp: inside the refresh margin
    const second = await cache.get();
    expect(second).not.toBe(first);
    expect(source).toHaveBeenCalledTimes(2);
    expect(await cache.get()).toBe(second);
    expect(source).toHaveBeenCalledTimes(2);
  });

  it("measures the lifetime from receipt (exp - iat), so a skewed browser clock does not matter", async () => {
    // Browser clock one hour ahead of the server that issued the token.
    const clock = new Clock((T0 + 3600) * 1000);
    const source = vi.fn(async () => tokenAt(T0));
    const cache = new TokenCache(source, { now: clock.now });
    await cache.get();
    clock.advance(600);
    await cache.get();
    expect(source).toHaveBeenCalledTimes(1);
  });

  it("falls back to absolute exp without iat, and does not cache a token without exp", async () => {
    const clock = new Clock(T0 * 1000);
    const noIat = vi.fn(async () => fakeJwt({ sub: "u", exp: T0 + 120 }));
    const c1 = new TokenCache(noIat, { now: clock.now, refreshMarginMs: 30_000 });
    await c1.get();
    clock.advance(80);
    await c1.get();
    expect(noIat).toHaveBeenCalledTimes(1);
    clock.advance(15); // 25 s left < 30 s margin
    await c1.get();
    expect(noIat).toHaveBeenCalledTimes(2);

    const noExp = vi.fn(async () => fakeJwt({ sub: "u" }));
    const c2 = new TokenCache(noExp, { now: clock.now });
    await c2.get();
    await c2.get();
    expect(noExp).toHaveBeenCalledTimes(2);
  });

  it("shares one in-flight fetch between concurrent callers", async () => {
    let release!: (t: string) => void;
    const source = vi.fn(() => new Promise<string>((r) => (release = r)));
    const cache = new TokenCache(source, { now: () => T0 * 1000 });
    const a = cache.get();
    const b = cache.get();
    release(tokenAt(T0));
    expect(await a).toBe(await b);
    expect(source).toHaveBeenCalledTimes(1);
  });

  it("invalidate() forces a new token", async () => {
    const clock = new Clock(T0 * 1000);
    let n = 0;
    const source = vi.fn(async () => tokenAt(T0, 900, { n: ++n }));
    const cache = new TokenCache(source, { now: clock.now });
    const first = await cache.get();
    cache.invalidate();
    expect(await cache.get()).not.toBe(first);
    expect(source).toHaveBeenCalledTimes(2);
  });

  it("invalidate(token) drops the cache only while it still holds that token", async () => {
    let n = 0;
    const source = vi.fn(async () => tokenAt(T0, 900, { n: ++n }));
    const cache = new TokenCache(source, { now: () => T0 * 1000 });
    const first = await cache.get();
    cache.invalidate(first);
    const second = await cache.get();
    expect(second).not.toBe(first);
    cache.invalidate(first); // a late report about the old token: the new one stays
    expect(await cache.get()).toBe(second);
    expect(source).toHaveBeenCalledTimes(2);
  });

  it("invalidate(token) keeps a refetch that is already under way", async () => {
    const releases: Array<(t: string) => void> = [];
    const source = vi.fn(() => new Promise<string>((r) => releases.push(r)));
    const cache = new TokenCache(source, { now: () => T0 * 1000 });
    const firstGet = cache.get();
    releases[0]!(tokenAt(T0, 900, { n: 1 }));
    const first = await firstGet;

    cache.invalidate(first);
    const a = cache.get(); // starts the refetch
    cache.invalidate(first); // a second request refused `first`: must not start another
    const b = cache.get();
    expect(source).toHaveBeenCalledTimes(2);
    releases[1]!(tokenAt(T0, 900, { n: 2 }));
    expect(await a).toBe(await b);
    expect(await cache.get()).toBe(await a);
    expect(source).toHaveBeenCalledTimes(2);
  });

  it("invalidate() without a token (sign-out) also discards a refetch under way", async () => {
    const releases: Array<(t: string) => void> = [];
    const source = vi.fn(() => new Promise<string>((r) => releases.push(r)));
    const cache = new TokenCache(source, { now: () => T0 * 1000 });
    const pending = cache.get();
    cache.invalidate();
    releases[0]!(tokenAt(T0, 900, { n: 1 }));
    await pending;
    const next = cache.get(); // the discarded token was not stored: a new fetch
    expect(source).toHaveBeenCalledTimes(2);
    releases[1]!(tokenAt(T0, 900, { n: 2 }));
    expect(decodeJwtTimes(await next)).not.toBeNull();
  });

  it("does not cache a failure", async () => {
    const source = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(sessionExpiredError())
      .mockResolvedValueOnce(tokenAt(T0));
    const cache = new TokenCache(source, { now: () => T0 * 1000 });
    await expect(cache.get()).rejects.toMatchObject({ status: 401, type: SESSION_EXPIRED_TYPE });
    await expect(cache.get()).resolves.toBe(tokenAt(T0));
  });
});

describe("TodoApi requests", () => {
  it("sends the bearer token to /api/{user_id}/tasks and reuses it across calls", async () => {
    const { api, requests, source } = setup([json([task]), json(task, 201)]);
    expect(await api.listPage("pending")).toEqual({ tasks: [task], hasMore: false });
    expect(await api.createTask({ title: "Buy milk" })).toEqual(task);

    expect(requests[0]!.url).toBe("http://edge.test:8080/api/user-1/tasks?status=pending&limit=101&offset=0");
    expect(requests[0]!.method).toBe("GET");
    expect(requests[1]!.url).toBe("http://edge.test:8080/api/user-1/tasks");
    expect(requests[1]!.method).toBe("POST");
    expect(requests[1]!.headers.get("content-type")).toBe("application/json");
    expect(await requests[1]!.json()).toEqual({ title: "Buy milk" });
    expect(bearerClaims(requests[0]!)).toMatchObject({ sub: "user-1", n: 1 });
    expect(bearerClaims(requests[1]!)).toMatchObject({ n: 1 });
    expect(source).toHaveBeenCalledTimes(1);
  });

  it("pages with limit/offset, asking for one task more to know whether another page follows", async () => {
    const many = Array.from({ length: 105 }, (_, i) => ({ ...task, id: i + 1, title: `Task ${i + 1}` }));
    const serve = (req: Request) => {
      const url = new URL(req.url);
      const limit = Number(url.searchParams.get("limit"));
      const offset = Number(url.searchParams.get("offset"));
      return json(many.slice(offset, offset + limit));
    };
    const { api, requests } = setup([serve, serve, serve]);

    const first = await api.listPage("all");
    expect(first.tasks.map((t) => t.id)).toEqual(many.slice(0, 100).map((t) => t.id));
    expect(first.hasMore).toBe(true);
    const second = await api.listPage("all", first.tasks.length);
    expect(second).toEqual({ tasks: many.slice(100), hasMore: false });
    const exact = await api.listPage("all", 100, 5); // exactly the last 5: nothing after them
    expect(exact).toEqual({ tasks: many.slice(100), hasMore: false });

    expect(requests.map((r) => new URL(r.url).search)).toEqual([
      "?status=all&limit=101&offset=0",
      "?status=all&limit=101&offset=100",
      "?status=all&limit=6&offset=100",
    ]);
  });

  it("refuses a page size the edge would not accept, and a negative offset, before sending anything", async () => {
    const { api, requests } = setup([]);
    await expect(api.listPage("all", 0, 0)).rejects.toThrow(RangeError);
    await expect(api.listPage("all", 0, 1000)).rejects.toThrow(/1 to 999/);
    await expect(api.listPage("all", -1)).rejects.toThrow(/offset/);
    expect(requests).toHaveLength(0);
  });

  it("uses the right method and path for every operation", async () => {
    const { api, requests } = setup([
      json(task),
      json(task),
      json({ ...task, completed: true }),
      new Response(null, { status: 204 }),
    ]);
    await api.getTask(1);
    await api.updateTask(1, { title: "x", completed: false });
    expect((await api.toggleComplete(1)).completed).toBe(true);
    await expect(api.deleteTask(1)).resolves.toBeUndefined();
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      "GET /api/user-1/tasks/1",
      "PUT /api/user-1/tasks/1",
      "PATCH /api/user-1/tasks/1/complete",
      "DELETE /api/user-1/tasks/1",
    ]);
    expect(await requests[1]!.json()).toEqual({ title: "x", completed: false });
  });

  it("escapes the user id in the path", async () => {
    const clock = new Clock(T0 * 1000);
    const seen: string[] = [];
    const api = new TodoApi({
      baseUrl: "http://edge.test",
      userId: "a/b c",
      tokens: new TokenCache(async () => tokenAt(T0), { now: clock.now }),
      fetch: (async (url: string) => {
        seen.push(url);
        return json([]);
      }) as unknown as typeof fetch,
    });
    await api.listPage();
    expect(seen[0]).toBe("http://edge.test/api/a%2Fb%20c/tasks?status=all&limit=101&offset=0");
  });

  it("on 401 drops the cached token and retries exactly once with a fresh one", async () => {
    const { api, requests, source } = setup([problem(401, "Unauthorized", "token expired"), json([task])]);
    expect((await api.listPage()).tasks).toEqual([task]);
    expect(source).toHaveBeenCalledTimes(2);
    expect(requests).toHaveLength(2);
    expect(bearerClaims(requests[0]!).n).toBe(1);
    expect(bearerClaims(requests[1]!).n).toBe(2);
  });

  it("several requests refused with 401 at once share one token refetch", async () => {
    let refusing = false; // the edge accepts token n=1 at first, then refuses it (e.g. a key rotated)
    const { api, requests, source } = setup(
      Array.from(
        { length: 9 },
        () => (req: Request) =>
          refusing && bearerClaims(req).n === 1 ? problem(401, "Unauthorized", "token expired") : json([task]),
      ),
    );
    await api.listPage(); // caches token n=1
    refusing = true;
    const results = await Promise.all([api.listPage(), api.listPage(), api.listPage(), api.listPage()]);
    expect(results.map((r) => r.tasks)).toEqual([[task], [task], [task], [task]]);
    // One token at the start, one shared refetch after the four 401s.
    expect(source).toHaveBeenCalledTimes(2);
    expect(requests.slice(1).map((r) => bearerClaims(r).n)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it("gives up after the retry also gets 401, with the edge's detail", async () => {
    const { api, requests, source } = setup([
      problem(401, "Unauthorized", "token expired"),
      problem(401, "Unauthorized", "signature mismatch"),
    ]);
    const err = await api.listPage().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, detail: "signature mismatch", title: "Unauthorized" });
    expect(err.isSessionExpired).toBe(false);
    expect(requests).toHaveLength(2);
    expect(source).toHaveBeenCalledTimes(2);
  });

  it("does not retry other errors", async () => {
    const { api, requests } = setup([problem(403, "Forbidden", "user id does not match the token")]);
    await expect(api.listPage()).rejects.toMatchObject({
      status: 403,
      detail: "user id does not match the token",
    });
    expect(requests).toHaveLength(1);
  });

  it("reports an expired session when no token can be had", async () => {
    const fetchMock = vi.fn();
    const api = new TodoApi({
      baseUrl: "http://edge.test",
      userId: "user-1",
      tokens: new TokenCache(async () => {
        throw sessionExpiredError();
      }),
      fetch: fetchMock as unknown as typeof fetch,
    });
    const err = await api.listPage().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.isSessionExpired).toBe(true);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("error mapping", () => {
  it("maps problem+json to ApiError(status, detail)", async () => {
    const { api } = setup([problem(422, "Unprocessable Entity", "title must be 1-200 characters")]);
    const err = await api.createTask({ title: " " }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.detail).toBe("title must be 1-200 characters");
    expect(err.title).toBe("Unprocessable Entity");
    expect(err.type).toBe("about:blank");
  });

  it("maps 404 and 503 problems", async () => {
    const { api } = setup([
      problem(404, "Not Found", "task not found"),
      problem(503, "Service Unavailable", "tasks service unavailable"),
    ]);
    await expect(api.getTask(99)).rejects.toMatchObject({ status: 404, detail: "task not found" });
    await expect(api.listPage()).rejects.toMatchObject({ status: 503, detail: "tasks service unavailable" });
  });

  it("accepts FastAPI-style detail arrays", async () => {
    const err = await errorFromResponse(json({ detail: [{ loc: ["body", "title"], msg: "field required" }] }, 422));
    expect(err).toMatchObject({ status: 422, detail: "field required" });
  });

  it("falls back to a readable message for non-JSON bodies", async () => {
    const err = await errorFromResponse(
      new Response("<html>bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } }),
    );
    expect(err.status).toBe(502);
    expect(err.detail).toMatch(/unavailable/i);
  });

  it("falls back when the problem has no detail", async () => {
    const err = await errorFromResponse(
      json({ title: "Payload Too Large", status: 413 }, 413, "application/problem+json"),
    );
    expect(err).toMatchObject({ status: 413, detail: "Payload Too Large" });
  });

  it("turns a network failure into ApiError(0) naming the API URL", async () => {
    const { api } = setup([new TypeError("fetch failed")]);
    const err = await api.listPage().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.detail).toContain("http://edge.test:8080");
    expect(err.detail).toContain("fetch failed");
  });

  it("rejects a success response that is not JSON", async () => {
    const { api } = setup([new Response("oops", { status: 200 })]);
    await expect(api.listPage()).rejects.toMatchObject({ status: 200 });
  });
});
