/**
 * Serialises Better Auth's migration across processes on PostgreSQL: web
 * replicas that start together (Kubernetes init containers, `docker compose
 * up --scale web=N`) would otherwise race, since the migration is neither
 * transactional nor safe to run twice at once (the loser fails with
 * "relation … already exists").
 */
import { Pool } from "pg";
import type { AuthDatabase } from "./database";

/**
 * The `pg_advisory_lock` key held around the migration: the bytes of
 * "authmigr" (tasks uses "tasksmig"). Advisory locks are per database.
 */
export const MIGRATION_LOCK_KEY = "7022647185815201650";

/**
 * Runs `migrate` while holding the advisory lock on one dedicated
 * connection (session locks belong to a connection); waits while another
 * process holds it. SQLite: runs it as is.
 */
export async function withMigrationLock<T>(database: AuthDatabase, migrate: () => Promise<T>): Promise<T> {
  if (!(database instanceof Pool)) return migrate();
  const client = await database.connect();
  let healthy = false;
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const result = await migrate();
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    healthy = true;
    return result;
  } finally {
    // After a failure the connection is closed, which releases the lock.
    client.release(!healthy);
  }
}
