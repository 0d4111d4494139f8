/**
 * The server-side Better Auth instance, built lazily from the environment on
 * first use (so `next build` needs no secret and no database).
 */
import { betterAuth } from "better-auth";
import {
  TOKEN_LIFETIME_SECONDS,
  checkSecret,
  createAuthOptions,
  normalizeBaseURL,
  parseJwksAlg,
  parseJwtMode,
  parseSeconds,
  parseTokenClaims,
  type JwksSettings,
} from "./auth-options";
import { installClientAddressHook, parseTrustedProxies } from "./auth/client-address";
import { databaseFromEnv } from "./database";
import { DEFAULT_BASE_URL, runtimeEnv } from "./env";

export function authSettingsFromEnv() {
  const mode = parseJwtMode(runtimeEnv("AUTH_JWT_MODE"));
  const secret = checkSecret(runtimeEnv("BETTER_AUTH_SECRET"), mode);
  const baseURL = normalizeBaseURL(runtimeEnv("BETTER_AUTH_URL") ?? DEFAULT_BASE_URL);
  const trustedProxies = parseTrustedProxies(runtimeEnv("AUTH_TRUSTED_PROXIES"));
  const claims = parseTokenClaims(runtimeEnv("AUTH_JWT_ISSUER"), runtimeEnv("AUTH_JWT_AUDIENCE"));
  return { mode, secret, baseURL, trustedProxies, claims, jwks: jwksSettingsFromEnv() };
}

/**
 * AUTH_JWKS_ALG, AUTH_JWKS_ROTATION_SECS, AUTH_JWKS_GRACE_SECS (used in `jwks`
 * mode). A rotated-out key must stay published at least as long as the tokens
 * it signed live, hence the grace period's minimum.
 */
export function jwksSettingsFromEnv(): JwksSettings {
  return {
    alg: parseJwksAlg(runtimeEnv("AUTH_JWKS_ALG")),
    rotationInterval: parseSeconds("AUTH_JWKS_ROTATION_SECS", runtimeEnv("AUTH_JWKS_ROTATION_SECS"), 60),
    gracePeriod: parseSeconds("AUTH_JWKS_GRACE_SECS", runtimeEnv("AUTH_JWKS_GRACE_SECS"), TOKEN_LIFETIME_SECONDS),
  };
}

function build() {
  const settings = authSettingsFromEnv();
  const db = databaseFromEnv();
  // Installed at server start by instrumentation-node.ts; this call only
  // returns its header (or installs it, should the server have skipped that).
  const clientAddressHeader = installClientAddressHook(settings.trustedProxies);
  return betterAuth(createAuthOptions({ ...settings, clientAddressHeader, database: db.database }));
}

export type Auth = ReturnType<typeof build>;

// Survives Next's dev-mode module reloads: one instance (and one DB handle) per process.
const holder = globalThis as typeof globalThis & { __todoAuth?: Auth };

export function getAuth(): Auth {
  holder.__todoAuth ??= build();
  return holder.__todoAuth;
}
