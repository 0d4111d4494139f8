// Better Auth's migration (scripts/migrate.ts, what the Kubernetes init
// container and `npm start` run) on PostgreSQL: processes started together
// migrate one at a time under an advisory lock. Runs the real script as a
// process against a database of its own; needs TEST_DATABASE_URL (a
// postgres:// URL; `skip` or unset skips it).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Client } from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATION_LOCK_KEY } from "@/lib/migration-lock";

const PG_URL = process.env.TEST_DATABASE_URL?.startsWith("postgres") ? process.env.TEST_DATABASE_URL : undefined;
const WEB_DIR = fileURLToPath(new URL("../..", import.meta.url));
const TABLES = ["account", "jwks", "session", "user", "verification"];

interface Run {
  exit: Promise<{ code: number | null; output: string }>;
  exited: () => boolean;
}

function migrate(databaseUrl: string): Run {
  const child = spawn("./node_modules/.bin/tsx", ["scripts/migrate.ts"], {
    cwd: WEB_DIR,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  let output = "";
  let done = false;
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exit = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on("close", (code) => {
      done = true;
      resolve({ code, output });
    }),
  );
  return { exit, exited: () => done };
}

async function authTables(client: Client): Promise<string[]> {
  const { rows } = await client.query(
    "select table_name from information_schema.tables where table_schema = 'public' and table_name = any($1) order by 1",
    [TABLES],
  );
  return rows.map((r) => r.table_name);
}

describe.skipIf(!PG_URL)("Better Auth's migration under an advisory lock", () => {
  let name: string;
  let url: string;
  let admin: Client;

  beforeEach(async () => {
    name = `web_migrate_${randomUUID().replaceAll("-", "")}`;
    admin = new Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const parsed = new URL(PG_URL!);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
  });

  afterEach(async () => {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it("waits while another process holds the lock, then migrates", async () => {
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      const run = migrate(url);
      // The script must end up waiting for our lock (not run, nor exit).
      let waiting = false;
      while (!waiting && !run.exited()) {
        const { rows } = await holder.query(
          `select count(*)::int as n from pg_locks
           where locktype = 'advisory' and not granted
             and database = (select oid from pg_database where datname = current_database())`,
        );
        waiting = rows[0].n === 1;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!waiting) {
        const { code, output } = await run.exit;
        expect.fail(`the migration did not wait for the lock (exit ${code}): ${output}`);
      }
      expect(await authTables(holder)).toEqual([]);

      await holder.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
      const { code, output } = await run.exit;
      expect(code, output).toBe(0);
      expect(output).toContain("created tables");
      expect(await authTables(holder)).toEqual(TABLES);
    } finally {
      await holder.end();
    }
  }, 60_000);

  it("three processes started together all succeed, and one creates the tables", async () => {
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)].map((run) => run.exit));
    for (const { code, output } of results) expect(code, output).toBe(0);
    expect(results.filter((r) => r.output.includes("created tables"))).toHaveLength(1);
    expect(results.filter((r) => r.output.includes("up to date"))).toHaveLength(2);
    const check = new Client({ connectionString: url });
    await check.connect();
    try {
      expect(await authTables(check)).toEqual(TABLES);
    } finally {
      await check.end();
    }
  }, 90_000);
});
