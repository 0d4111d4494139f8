/**
 * Starting and stopping the real processes the interop and e2e tests need:
 * the Rust `tasks` and `edge` binaries (from EDGE_BIN / TASKS_BIN, default
 * ../target/debug/{edge,tasks} relative to web/) and, for e2e, the Next app.
 * Every process gets its own process group and is killed on stop() and, as a
 * last resort, when the test process exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function binPath(envName: "EDGE_BIN" | "TASKS_BIN" | "DOCTOR_BIN", name: string): string {
  const path = resolve(WEB_DIR, process.env[envName] || `../target/debug/${name}`);
  if (!existsSync(path)) {
    throw new Error(
      `The Rust '${name}' binary was not found at ${path}. Build it first ` +
        `(from the repository root: cargo build -p ${name}) or point ${envName} at it.`,
    );
  }
  return path;
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr && typeof addr === "object") {
        const port = addr.port;
        srv.close(() => ok(port));
      } else {
        srv.close(() => fail(new Error("no port")));
      }
    });
  });
}

/** A random secret of `bytes` random bytes, base64url (≥ 32 bytes of text). */
export function newSecret(bytes = 48): string {
  return randomBytes(bytes).toString("base64url");
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  /** Resolves once the process has exited and its output is fully read. */
  closed: Promise<void>;
  /** The last 64 KiB of its output. */
  output: { text: string };
}

const everyone = new Set<Managed>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the whole process group (detached: true)
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function killEveryone() {
  for (const m of everyone) killGroup(m.child, "SIGKILL");
}
process.on("exit", killEveryone);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killEveryone();
    // Our listener is gone now (once): re-raise so the default action (or the
    // test runner's own handler) ends this process as it would have.
    process.kill(process.pid, signal);
  });
}

export class Services {
  readonly dir: string;
  private procs: Managed[] = [];

  constructor(prefix = "todo-test-") {
    this.dir = tempDir(prefix);
  }

  /** Starts a process; `env` overrides the inherited environment (`undefined` removes a variable). */
  start(name: string, command: string, args: string[], env: Record<string, string | undefined>, cwd = WEB_DIR) {
    const logFile = join(this.dir, `${name}.log`);
    mkdirSync(dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile);
    const fullEnv: Record<string, string | undefined> = { ...process.env, ...env };
    for (const key of Object.keys(fullEnv)) if (fullEnv[key] === undefined) delete fullEnv[key];
    const child = spawn(command, args, {
      cwd,
      env: fullEnv as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const output = { text: "" };
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on("data", (chunk: Buffer) => {
        log.write(chunk);
        output.text = (output.text + chunk.toString("utf8")).slice(-65536);
      });
    }
    const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
    // "close": the process has exited and both output streams are drained.
    const closed = new Promise<void>((ok) =>
      child.on("close", () => {
        log.end();
        ok();
      }),
    );
    const managed = { name, child, logFile, exited, closed, output };
    this.procs.push(managed);
    everyone.add(managed);
    return managed;
  }

  /** Runs a command to completion; rejects with its output on failure. */
  run(name: string, command: string, args: string[], env: Record<string, string | undefined>, timeoutMs = 300_000) {
    const m = this.start(name, command, args, env);
    return new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => {
        killGroup(m.child, "SIGKILL");
        fail(new Error(`${name} timed out after ${timeoutMs} ms\n${this.tail(name)}`));
      }, timeoutMs);
      m.exited.then(async (code) => {
        clearTimeout(timer);
        await Promise.race([m.closed, new Promise((r) => setTimeout(r, 1000))]);
        if (code === 0) ok();
        else fail(new Error(`${name} exited with ${code}\n${this.tail(name)}`));
      });
    });
  }

  tail(name: string, lines = 40): string {
    const m = this.procs.find((p) => p.name === name);
    if (!m) return "";
    return `--- last lines of ${name} (${m.logFile}) ---\n` + m.output.text.split("\n").slice(-lines).join("\n");
  }

  /** Polls `url` until it answers `status` (default 200); fails early if the process dies. */
  async waitForHttp(name: string, url: string, { status = 200, timeoutMs = 60_000 } = {}) {
    const m = this.procs.find((p) => p.name === name);
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    while (Date.now() < deadline) {
      if (m && (m.child.exitCode !== null || m.child.signalCode !== null)) {
        await Promise.race([m.closed, new Promise((r) => setTimeout(r, 1000))]);
        throw new Error(
          `${name} exited (${m.child.exitCode ?? m.child.signalCode}) before ${url} was ready\n${this.tail(name)}`,
        );
      }
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (res.status === status) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${name}: ${url} not ready after ${timeoutMs} ms (${last})\n${this.tail(name)}`);
  }

  /** Stops one started process (SIGTERM, then SIGKILL after 5 s), e.g. to restart it. */
  async stopOne(name: string) {
    const m = this.procs.find((p) => p.name === name);
    if (!m) throw new Error(`no process named ${name}`);
    killGroup(m.child, "SIGTERM");
    const done = await Promise.race([
      m.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!done) killGroup(m.child, "SIGKILL");
    await m.exited;
  }

  /** The last lines of every process's output (for failure reports). */
  tails(lines = 30): string {
    return this.procs.map((p) => this.tail(p.name, lines)).join("\n");
  }

  /**
   * Kills every started process (SIGTERM, then SIGKILL) and removes the temp
   * dir; with `failed`, prints each process's last output and keeps the dir.
   */
  async stop({ failed = false } = {}) {
    if (failed) {
      console.error(`[services] a test failed; logs kept in ${this.dir}\n${this.tails()}`);
    }
    const procs = this.procs.reverse();
    this.procs = [];
    for (const m of procs) killGroup(m.child, "SIGTERM");
    await Promise.all(
      procs.map(async (m) => {
        const done = await Promise.race([
          m.exited.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
        ]);
        if (!done) killGroup(m.child, "SIGKILL");
        everyone.delete(m);
      }),
    );
    if (!failed) rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Backend {
  edgeUrl: string;
  tasksAddr: string;
  /** The edge's admin listener (metrics, the detailed /readyz). */
  edgeAdminAddr: string;
}

/**
 * Starts `tasks` (SQLite in the temp dir) and `edge` (HS256 mode by default)
 * with the given secret and expected issuer/audience (= the web origin), and
 * waits until the edge reports ready. With `label`, the processes are named
 * `tasks-<label>` / `edge-<label>` (several backends in one test file).
 */
export async function startBackend(
  services: Services,
  opts: {
    /** BETTER_AUTH_SECRET for the edge; omit in JWKS mode (the edge then holds no secret). */
    betterAuthSecret?: string;
    betterAuthUrl: string;
    /** AUTH_JWT_MODE for the edge (default hs256). */
    mode?: "hs256" | "jwks" | "both";
    internalSecret?: string;
    extraEdgeEnv?: Record<string, string | undefined>;
    /** The edge's port (default: a free one), e.g. when the web app must know it first. */
    edgePort?: number;
    /**
     * Wait for `/readyz` to answer 200 (default). `false`: only for `/healthz`
     * (in JWKS mode the edge is not ready until it has fetched the keys).
     */
    waitReady?: boolean;
    /** Names the processes `tasks-<label>` / `edge-<label>` (several backends in one test file). */
    label?: string;
  },
): Promise<Backend> {
  const tasksBin = binPath("TASKS_BIN", "tasks");
  const edgeBin = binPath("EDGE_BIN", "edge");
  const internal = opts.internalSecret ?? newSecret();
  const tasksPort = await freePort();
  const edgePort = opts.edgePort ?? (await freePort());
  const edgeAdminAddr = `127.0.0.1:${await freePort()}`;
  const tasksAddr = `127.0.0.1:${tasksPort}`;
  const suffix = opts.label ? `-${opts.label}` : "";
  const tasksName = `tasks${suffix}`;
  const edgeName = `edge${suffix}`;
  const common = { RUST_LOG: process.env.RUST_LOG ?? "info", NO_COLOR: "1" };
  const unset = {
    DATABASE_URL: undefined,
    AUTH_VERIFY_URL: undefined,
    AUTH_JWKS_URL: undefined,
    AUTH_JWKS_REFRESH_SECS: undefined,
    AUTH_JWKS_REFETCH_COOLDOWN_SECS: undefined,
    AUTH_REVOCATION_SECRET: undefined,
    AUTH_REVOCATION_URL: undefined,
    AUTH_REVOCATION_POLL_MS: undefined,
    AUTH_REQUIRE_SID: undefined,
    OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  };

  services.start(tasksName, tasksBin, [], {
    ...common,
    ...unset,
    TASKS_LISTEN_ADDR: tasksAddr,
    INTERNAL_AUTH_SECRET: internal,
    TASKS_SQLITE_PATH: join(services.dir, `${tasksName}.sqlite`),
  });
  services.start(edgeName, edgeBin, [], {
    ...common,
    ...unset,
    EDGE_LISTEN_ADDR: `127.0.0.1:${edgePort}`,
    EDGE_ADMIN_LISTEN_ADDR: edgeAdminAddr,
    TASKS_URL: `http://${tasksAddr}`,
    BETTER_AUTH_SECRET: opts.betterAuthSecret,
    BETTER_AUTH_URL: opts.betterAuthUrl,
    INTERNAL_AUTH_SECRET: internal,
    AUTH_JWT_MODE: opts.mode ?? "hs256",
    ...opts.extraEdgeEnv,
  });
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  await services.waitForHttp(edgeName, `${edgeUrl}/healthz`);
  if (opts.waitReady ?? true) await services.waitForHttp(edgeName, `${edgeUrl}/readyz`);
  return { edgeUrl, tasksAddr, edgeAdminAddr };
}

/** One request to an edge, with a bearer token and a JSON body when given. */
export function callEdge(edge: string, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(edge + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
