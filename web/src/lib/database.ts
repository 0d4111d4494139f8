/**
 * Better Auth's storage: PostgreSQL when DATABASE_URL is set, otherwise an
 * embedded SQLite file (AUTH_SQLITE_PATH, default .data/auth.sqlite under web/).
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { Pool } from "pg";
import { ConfigError } from "./auth-options";
import { runtimeEnv } from "./env";

export const DEFAULT_SQLITE_PATH = ".data/auth.sqlite";

export type AuthDatabase = Pool | Database.Database;

export interface DatabaseChoice {
  database: AuthDatabase;
  /** Human-readable, secret-free description for logs. */
  describe: string;
  close(): Promise<void>;
}

export function openSqlite(path: string): DatabaseChoice {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  return { database: db, describe: `SQLite ${file}`, close: async () => void db.close() };
}

export function openPostgres(url: string): DatabaseChoice {
  const pool = new Pool({ connectionString: url, max: 10 });
  let where = "PostgreSQL";
  try {
    const u = new URL(url);
    where = `PostgreSQL ${u.hostname}${u.port ? ":" + u.port : ""}${u.pathname}`;
  } catch {
    /* keep the generic description */
  }
  return { database: pool, describe: where, close: () => pool.end() };
}

export function databaseFromEnv(): DatabaseChoice {
  const url = runtimeEnv("DATABASE_URL");
  if (!url) return openSqlite(runtimeEnv("AUTH_SQLITE_PATH") ?? DEFAULT_SQLITE_PATH);
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url);
  if (/^sqlite:/i.test(url)) {
    // sqlite:path, sqlite://path or sqlite:///abs/path (query string ignored)
    const path = url.replace(/^sqlite:(\/\/)?/i, "").replace(/\?.*$/, "");
    return openSqlite(path || DEFAULT_SQLITE_PATH);
  }
  throw new ConfigError(
    "DATABASE_URL must be a postgres:// (or sqlite:) URL; unset it to use the embedded SQLite file.",
  );
}
