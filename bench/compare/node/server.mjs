// The list route as a Next.js team would write it without the Rust edge:
// plain `node:http` + `jose` + `pg`, 2 cluster workers, one hop to
// PostgreSQL. A comparator for `just bench-load`, not part of the product.
//
//   DATABASE_URL=postgres://… BETTER_AUTH_SECRET=… BETTER_AUTH_URL=… PORT=… node server.mjs
//
// HS256 with the edge's rules (algorithm, exp, iss, aud, sub = the path's
// user id); a parameterised query through pg's default pool (10 per worker);
// the same problem+json refusals.
import cluster from "node:cluster";
import http from "node:http";
import { jwtVerify } from "jose";
import pg from "pg";

const WORKERS = Number(process.env.WORKERS ?? 2);
const PORT = Number(process.env.PORT ?? 8000);

if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < WORKERS; i++) {
    cluster.fork().on("listening", () => {
      if (++listening === WORKERS) console.log(`127.0.0.1:${PORT}`);
    });
  }
  cluster.on("exit", (_worker, code) => process.exit(code ?? 1));
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      cluster.removeAllListeners("exit");
      for (const worker of Object.values(cluster.workers)) worker.kill();
      process.exit(0);
    });
  }
} else {
  const secret = new TextEncoder().encode(process.env.BETTER_AUTH_SECRET);
  const issuer = process.env.BETTER_AUTH_URL;
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const LIST = {
    all: "",
    pending: " AND completed = false",
    completed: " AND completed = true",
  };

  const problem = (res, status, title, detail, challenge) => {
    const headers = { "content-type": "application/problem+json" };
    if (challenge) headers["www-authenticate"] = challenge;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ type: "about:blank", title, status, detail }));
  };

  const listTasks = async (req, res, userId, params) => {
    const [scheme, token] = (req.headers.authorization ?? "").split(" ");
    if (scheme?.toLowerCase() !== "bearer" || !token) {
      return problem(res, 401, "Unauthorized", "missing bearer token", 'Bearer realm="todo"');
    }
    let sub;
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ["HS256"],
        issuer,
        audience: issuer,
        requiredClaims: ["exp", "sub"],
      });
      sub = payload.sub;
    } catch {
      return problem(res, 401, "Unauthorized", "the token is invalid",
        'Bearer realm="todo", error="invalid_token"');
    }
    if (sub !== userId) return problem(res, 403, "Forbidden", "the token belongs to another user");
    const status = params.get("status") ?? "all";
    const limit = Number(params.get("limit") ?? 100);
    const offset = Number(params.get("offset") ?? 0);
    if (!(status in LIST) || !Number.isInteger(limit) || limit < 1 || limit > 1000
      || !Number.isInteger(offset) || offset < 0) {
      return problem(res, 422, "Unprocessable Content", "bad status, limit or offset");
    }
    const { rows } = await pool.query(
      "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks"
        + ` WHERE user_id = $1${LIST[status]} ORDER BY id LIMIT $2 OFFSET $3`,
      [userId, limit, offset],
    );
    const tasks = rows.map((r) => ({ ...r, id: Number(r.id) }));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(tasks));
  };

  http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const match = /^\/api\/([^/]+)\/tasks$/.exec(url.pathname);
    if (req.method !== "GET" || !match) return problem(res, 404, "Not Found", "no such route");
    listTasks(req, res, decodeURIComponent(match[1]), url.searchParams).catch(() => {
      if (!res.headersSent) problem(res, 500, "Internal Server Error", "internal error");
    });
  }).listen(PORT, "127.0.0.1");
}
