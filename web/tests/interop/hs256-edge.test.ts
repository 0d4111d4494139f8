/**
 * Interop: tokens issued by the REAL Better Auth library, configured by the
 * app's own options module (the real jwt.sign hook), against the REAL Rust
 * edge + tasks binaries started as processes.
 *
 * Binaries: EDGE_BIN / TASKS_BIN, default ../target/debug/{edge,tasks}.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { TodoApi, TokenCache, type Task } from "@/lib/api-client";
import { getToken, makeAuth, migratedSqlite, newUser, signUp } from "../support/auth";
import { callEdge, newSecret, startBackend } from "../support/services";
import { testServices } from "../support/test-services";

const WEB_ORIGIN = "http://localhost:3000"; // BETTER_AUTH_URL for both sides: iss = aud = this
const SECRET = newSecret();

let edge = "";
let auth: ReturnType<typeof makeAuth>;
let closeDb: () => Promise<void> = async () => {};
const services = testServices("todo-interop-", () => closeDb());

beforeAll(async () => {
  const db = await migratedSqlite(join(services.dir, "auth.sqlite"), { secret: SECRET, baseURL: WEB_ORIGIN });
  closeDb = db.close;
  auth = makeAuth({ secret: SECRET, baseURL: WEB_ORIGIN, database: db.database });

  const backend = await startBackend(services, { betterAuthSecret: SECRET, betterAuthUrl: WEB_ORIGIN });
  edge = backend.edgeUrl;
});

/** Two fresh users: every test makes its own, so none depends on another's data. */
const aliceAndBob = () => Promise.all([newUser(auth, "Alice"), newUser(auth, "Bob")]);

describe("HS256 tokens from Better Auth at the Rust edge", () => {
  it("accepts the token for the user's own path (201 create, 200 list)", async () => {
    const alice = await newUser(auth, "Alice");
    const res = await callEdge(edge, "POST", `/api/${alice.userId}/tasks`, alice.token, {
      title: "Write the interop test",
      description: "through the real edge",
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as Task;
    expect(created).toMatchObject({
      user_id: alice.userId,
      title: "Write the interop test",
      description: "through the real edge",
      completed: false,
    });
    expect(typeof created.id).toBe("number");
    expect(res.headers.get("location") ?? "").toContain(`/api/${alice.userId}/tasks/${created.id}`);

    const list = await callEdge(edge, "GET", `/api/${alice.userId}/tasks`, alice.token);
    expect(list.status).toBe(200);
    expect(((await list.json()) as Task[]).map((t) => t.id)).toEqual([created.id]);
  });

  it("refuses the token for another user's path with 403", async () => {
    const [alice, bob] = await aliceAndBob();
    const res = await callEdge(edge, "GET", `/api/${bob.userId}/tasks`, alice.token);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await res.json()) as { status: number; detail?: string };
    expect(problem.status).toBe(403);

    const write = await callEdge(edge, "POST", `/api/${bob.userId}/tasks`, alice.token, { title: "sneaky" });
    expect(write.status).toBe(403);
  });

  it("never shows one user's task to another (404)", async () => {
    const [alice, bob] = await aliceAndBob();
    const res0 = await callEdge(edge, "POST", `/api/${alice.userId}/tasks`, alice.token, { title: "Alice's own" });
    expect(res0.status).toBe(201);
    const created = (await res0.json()) as Task;
    const res = await callEdge(edge, "GET", `/api/${bob.userId}/tasks/${created.id}`, bob.token);
    expect(res.status).toBe(404);
    const list = await callEdge(edge, "GET", `/api/${bob.userId}/tasks`, bob.token);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
  });

  it("refuses a token issued after the secret changed with 401", async () => {
    const rotated = makeAuth({ secret: newSecret(), baseURL: WEB_ORIGIN });
    const { userId, cookie } = await signUp(rotated, "mallory@example.com", "Mallory");
    const token = await getToken(rotated, cookie);
    const res = await callEdge(edge, "GET", `/api/${userId}/tasks`, token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate") ?? "").toMatch(/^Bearer realm="todo", error="invalid_token"/);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("refuses a token whose issuer/audience is another origin with 401", async () => {
    const other = makeAuth({ secret: SECRET, baseURL: "http://localhost:3999" });
    const { userId, cookie } = await signUp(other, "oscar@example.com");
    const res = await callEdge(edge, "GET", `/api/${userId}/tasks`, await getToken(other, cookie));
    expect(res.status).toBe(401);
  });

  it("refuses a request without a token with 401 and a bare Bearer challenge", async () => {
    const alice = await newUser(auth, "Alice");
    const res = await callEdge(edge, "GET", `/api/${alice.userId}/tasks`);
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer realm="todo"/);
    expect(challenge).not.toContain("error=");
  });

  it("allows the web origin through CORS with the Authorization header", async () => {
    const res = await fetch(`${edge}/api/some-user/tasks`, {
      method: "OPTIONS",
      headers: {
        origin: WEB_ORIGIN,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe(WEB_ORIGIN);
    expect((res.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("authorization");
  });
});

describe("the app's TodoApi client against the real edge", () => {
  it("runs the whole task lifecycle with tokens from Better Auth", async () => {
    const bob = await newUser(auth, "Bob");
    let issued = 0;
    const tokens = new TokenCache(async () => {
      issued++;
      return getToken(auth, bob.cookie);
    });
    const api = new TodoApi({ baseUrl: edge, userId: bob.userId, tokens });

    const t1 = await api.createTask({ title: "Buy milk" });
    const t2 = await api.createTask({ title: "Call mum", description: "Sunday" });
    expect(t1.description).toBeNull();
    expect((await api.listPage()).tasks.map((t) => t.id)).toEqual([t1.id, t2.id]);

    const toggled = await api.toggleComplete(t1.id);
    expect(toggled.completed).toBe(true);
    expect((await api.listPage("completed")).tasks.map((t) => t.id)).toEqual([t1.id]);
    expect((await api.listPage("pending")).tasks.map((t) => t.id)).toEqual([t2.id]);

    const edited = await api.updateTask(t2.id, { title: "Call mum and dad" });
    expect(edited).toMatchObject({ title: "Call mum and dad", description: null, completed: false });
    expect((await api.getTask(t2.id)).title).toBe("Call mum and dad");

    await api.deleteTask(t1.id);
    await expect(api.getTask(t1.id)).rejects.toMatchObject({ status: 404 });
    await expect(api.createTask({ title: "   " })).rejects.toMatchObject({ status: 422 });

    expect(issued).toBe(1); // one token served every call above
  });

  it("pages through more tasks than one page holds (limit/offset), also under a filter", async () => {
    const carol = await newUser(auth, "Carol");
    const api = new TodoApi({
      baseUrl: edge,
      userId: carol.userId,
      tokens: new TokenCache(async () => getToken(auth, carol.cookie)),
    });
    const created: Task[] = [];
    for (let i = 1; i <= 105; i++) created.push(await api.createTask({ title: `Task ${i}` }));
    for (const task of created.filter((_, i) => i % 2 === 0)) await api.toggleComplete(task.id); // 53 completed

    const first = await api.listPage("all", 0);
    expect(first.tasks.map((t) => t.id)).toEqual(created.slice(0, 100).map((t) => t.id));
    expect(first.hasMore).toBe(true);
    const rest = await api.listPage("all", first.tasks.length);
    expect(rest.tasks.map((t) => t.id)).toEqual(created.slice(100).map((t) => t.id));
    expect(rest.hasMore).toBe(false);

    const completedIds = created.filter((_, i) => i % 2 === 0).map((t) => t.id);
    const pages = [await api.listPage("completed", 0, 50)];
    pages.push(await api.listPage("completed", 50, 50));
    expect(pages.map((p) => p.hasMore)).toEqual([true, false]);
    expect(pages.flatMap((p) => p.tasks.map((t) => t.id))).toEqual(completedIds);
  });

  it("recovers from a rejected cached token by fetching a fresh one once", async () => {
    const alice = await newUser(auth, "Alice");
    let calls = 0;
    const tokens = new TokenCache(async () => {
      calls++;
      if (calls === 1) {
        // A token the edge will refuse (signed by another secret), but not yet expired.
        const rotated = makeAuth({ secret: newSecret(), baseURL: WEB_ORIGIN });
        const { cookie } = await signUp(rotated, `stale${Date.now()}@example.com`);
        return getToken(rotated, cookie);
      }
      return getToken(auth, alice.cookie);
    });
    const api = new TodoApi({ baseUrl: edge, userId: alice.userId, tokens });
    const list = await api.listPage();
    expect(list).toEqual({ tasks: [], hasMore: false });
    expect(calls).toBe(2);
  });
});
