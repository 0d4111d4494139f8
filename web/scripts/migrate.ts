/**
 * Creates / updates Better Auth's tables (user, session, account, verification,
 * jwks) with Better Auth's own migration. Run by `npm run dev` and `npm start`
 * (and by the Kubernetes init container). Reads the same environment as the
 * app (DATABASE_URL or AUTH_SQLITE_PATH). On PostgreSQL, processes started
 * together migrate one at a time (see withMigrationLock).
 */
import { getMigrations } from "better-auth/db/migration";
import { createAuthOptions, parseJwtMode } from "../src/lib/auth-options";
import { databaseFromEnv } from "../src/lib/database";
import { DEFAULT_BASE_URL, runtimeEnv } from "../src/lib/env";
import { withMigrationLock } from "../src/lib/migration-lock";

async function main() {
  const db = databaseFromEnv();
  try {
    const mode = parseJwtMode(runtimeEnv("AUTH_JWT_MODE"));
    // The schema does not depend on the secret; a placeholder lets the
    // migration run before secrets are provisioned.
    const options = createAuthOptions({
      mode,
      secret: runtimeEnv("BETTER_AUTH_SECRET") ?? "migration-only-placeholder-secret-0123456789",
      baseURL: runtimeEnv("BETTER_AUTH_URL") ?? DEFAULT_BASE_URL,
      database: db.database,
    });
    await withMigrationLock(db.database, async () => {
      // Read the schema only once the lock is held: another process may
      // just have migrated it.
      const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(options);
      if (toBeCreated.length === 0 && toBeAdded.length === 0) {
        console.log(`[migrate] ${db.describe}: Better Auth schema is up to date`);
        return;
      }
      await runMigrations();
      const created = toBeCreated.map((t) => t.table).join(", ") || "none";
      const altered = toBeAdded.map((t) => t.table).join(", ") || "none";
      console.log(`[migrate] ${db.describe}: created tables: ${created}; added columns to: ${altered}`);
    });
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(`[migrate] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
