/**
 * The server-side Better Auth instance, built lazily from the environment on
 * first use (so `next build` needs no secret and no database).
 */
import { betterAuth } from "better-auth";
import { createAuthOptions, normalizeBaseURL, parseJwtMode, checkSecret } from "./auth-options";
import { databaseFromEnv } from "./database";
import { DEFAULT_BASE_URL, runtimeEnv } from "./env";

export function authSettingsFromEnv() {
  const mode = parseJwtMode(runtimeEnv("AUTH_JWT_MODE"));
  const secret = checkSecret(runtimeEnv("BETTER_AUTH_SECRET"), mode);
  const baseURL = normalizeBaseURL(runtimeEnv("BETTER_AUTH_URL") ?? DEFAULT_BASE_URL);
  return { mode, secret, baseURL };
}

function build() {
  const settings = authSettingsFromEnv();
  const db = databaseFromEnv();
  return betterAuth(createAuthOptions({ ...settings, database: db.database }));
}

export type Auth = ReturnType<typeof build>;

// Survives Next's dev-mode module reloads: one instance (and one DB handle) per process.
const holder = globalThis as typeof globalThis & { __todoAuth?: Auth };

export function getAuth(): Auth {
  holder.__todoAuth ??= build();
  return holder.__todoAuth;
}
