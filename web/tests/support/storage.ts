/**
 * The databases Better Auth runs on in the tests: its memory adapter, a
 * SQLite file (`just dev`) and PostgreSQL (compose), each fresh and migrated
 * by Better Auth's own migration. PostgreSQL runs when TEST_DATABASE_URL is a
 * postgres:// URL (the justfile's convention; `skip` or unset skips it): each
 * opening creates a database of its own on that server, dropped on close.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { BetterAuthOptions, BetterAuthPlugin } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { createAuthOptions, type AuthSettings } from "@/lib/auth-options";
import { openSqlite } from "@/lib/database";
import { memoryDb } from "./auth";
import { newSecret, tempDir } from "./services";

export const PG_URL = process.env.TEST_DATABASE_URL?.startsWith("postgres") ? process.env.TEST_DATABASE_URL : undefined;

export interface OpenedStorage {
  database: AuthSettings["database"];
  close(): Promise<void>;
}

export interface Storage {
  name: string;
  /** False when the test machine has no such database (the tests are skipped). */
  available: boolean;
  /** Fresh and migrated for the app's options plus `plugins`. */
  open(plugins?: BetterAuthPlugin[]): Promise<OpenedStorage>;
}

const MIGRATION = { secret: newSecret(), baseURL: "http://localhost:3000", mode: "hs256" as const };

/** The app's options with `plugins` added, as a deployment would add them. */
function withPlugins(settings: AuthSettings, plugins: BetterAuthPlugin[]): BetterAuthOptions {
  const options = createAuthOptions(settings);
  return { ...options, plugins: [...options.plugins, ...plugins] };
}

/** A new, migrated PostgreSQL database of its own on TEST_DATABASE_URL's server. */
export async function freshPostgres(prefix: string, plugins: BetterAuthPlugin[] = []): Promise<OpenedStorage> {
  const { Pool } = await import("pg");
  const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new Pool({ connectionString: PG_URL, max: 1 });
  await admin.query(`create database "${name}"`);
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  const pool = new Pool({ connectionString: url.toString(), max: 8 });
  let closing = false;
  // The drop below ends connections the pool is still closing: expected then.
  pool.on("error", (error) => {
    if (!closing) throw error;
  });
  const close = async () => {
    closing = true;
    await pool.end();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  };
  try {
    await (await getMigrations(withPlugins({ ...MIGRATION, database: pool }, plugins))).runMigrations();
  } catch (error) {
    await close();
    throw error;
  }
  return { database: pool, close };
}

export const STORAGES: Storage[] = [
  {
    name: "Better Auth's memory adapter",
    available: true,
    open: async () => ({ database: memoryDb(), close: async () => {} }),
  },
  {
    name: "SQLite",
    available: true,
    open: async (plugins = []) => {
      const dir = tempDir("web-storage-");
      const db = openSqlite(join(dir, "auth.sqlite"));
      await (await getMigrations(withPlugins({ ...MIGRATION, database: db.database }, plugins))).runMigrations();
      const close = async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      };
      return { database: db.database, close };
    },
  },
  {
    name: "PostgreSQL",
    available: PG_URL !== undefined,
    open: (plugins) => freshPostgres("web_storage_test", plugins),
  },
];
