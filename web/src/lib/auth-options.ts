/**
 * Better Auth configuration shared by the app (src/lib/auth.ts), the migration
 * script (scripts/migrate.ts) and the tests, so the tests exercise the very
 * `jwt.sign` hook the app uses.
 */
import type { BetterAuthOptions } from "better-auth";
import { jwt, type JWSAlgorithms } from "better-auth/plugins";
import { SignJWT, type JWTPayload } from "jose";
import { DISABLED_AUTH_PATHS } from "./auth/endpoints";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordPolicy } from "./auth/password-policy";
import { signInThrottle } from "./auth/sign-in-throttle";
import { sessionRevocations } from "./auth/revocations";
import { signUpPrivacy } from "./auth/sign-up-privacy";
import { userFields } from "./auth/user-fields";
import { ConfigError } from "./config-error";

export type JwtMode = "hs256" | "jwks" | "both";

export { TOKEN_LIFETIME_SECONDS } from "./auth/token-lifetime";
export const MIN_SECRET_BYTES = 32;

export interface AuthSettings {
  /** BETTER_AUTH_SECRET: HS256 key (UTF-8 bytes) and Better Auth's own secret. */
  secret: string;
  /** BETTER_AUTH_URL: the web app's public origin; the default `iss` and `aud`. */
  baseURL: string;
  /**
   * AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: Better Auth's `jwt.issuer` and
   * `jwt.audience` when set (else BETTER_AUTH_URL). The edge reads the same
   * two variables, so both sides agree; several audiences make `aud` an array.
   */
  claims?: TokenClaims;
  /** AUTH_JWT_MODE. `both` signs like `hs256` (the web can only sign one way). */
  mode: JwtMode;
  /** Anything Better Auth accepts as `database` (pg Pool, better-sqlite3 Database, adapter). */
  database: BetterAuthOptions["database"];
  /** Better Auth's own key pairs (`jwks` mode only); see {@link JwksSettings}. */
  jwks?: JwksSettings;
  /**
   * The request header holding the client's address chain, written by the
   * client-address hook (src/lib/auth/client-address.ts). Unset (tests, the
   * migration script): Better Auth's default (`x-forwarded-for`).
   */
  clientAddressHeader?: string;
  /** AUTH_TRUSTED_PROXIES: the reverse proxies whose forwarded addresses count. */
  trustedProxies?: string[];
}

/** The `iss` and `aud` of the tokens (see {@link AuthSettings.claims}). */
export interface TokenClaims {
  issuer?: string;
  audience?: string[];
}

/**
 * AUTH_JWT_ISSUER (exact string) and AUTH_JWT_AUDIENCE (comma-separated), read
 * as the edge reads them: unset or blank means BETTER_AUTH_URL; an empty entry
 * in the list is refused.
 */
export function parseTokenClaims(issuer: string | undefined, audience: string | undefined): TokenClaims {
  const claims: TokenClaims = {};
  if (issuer !== undefined && issuer.trim() !== "") claims.issuer = issuer;
  if (audience !== undefined && audience.trim() !== "") {
    const list = audience.split(",").map((a) => a.trim());
    if (list.some((a) => a === "")) {
      throw new ConfigError(`AUTH_JWT_AUDIENCE has an empty entry (a comma too many?): "${audience}".`);
    }
    claims.audience = list;
  }
  return claims;
}

/**
 * Better Auth's key pairs in `jwks` mode (AUTH_JWKS_ALG, AUTH_JWKS_ROTATION_SECS,
 * AUTH_JWKS_GRACE_SECS). Ignored in `hs256`/`both` mode.
 */
export interface JwksSettings {
  /**
   * `jwks.keyPairConfig.alg` (default EdDSA). Takes effect only for keys created
   * from now on: an existing key keeps signing until it is rotated.
   */
  alg?: JWSAlgorithms;
  /** `jwks.rotationInterval`, seconds: a new key pair is minted once the newest is this old. Unset: no rotation. */
  rotationInterval?: number;
  /** `jwks.gracePeriod`, seconds: how long a rotated-out key stays published (Better Auth's default: 30 days). */
  gracePeriod?: number;
}

/** The algorithms the backend verifies: every one Better Auth's `keyPairConfig` offers. */
export const SUPPORTED_JWKS_ALGS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"] as const;
export type SupportedJwksAlg = (typeof SUPPORTED_JWKS_ALGS)[number];

/** AUTH_JWKS_ALG: one of {@link SUPPORTED_JWKS_ALGS}, exact spelling (case-insensitive), default EdDSA. */
export function parseJwksAlg(value: string | undefined): SupportedJwksAlg {
  const wanted = (value ?? "").trim();
  if (!wanted) return "EdDSA";
  const alg = SUPPORTED_JWKS_ALGS.find((a) => a.toLowerCase() === wanted.toLowerCase());
  if (alg) return alg;
  throw new ConfigError(`AUTH_JWKS_ALG must be one of ${SUPPORTED_JWKS_ALGS.join(", ")} (got "${value}").`);
}

/** A whole number of seconds ≥ `min` from the environment, or undefined when unset. */
export function parseSeconds(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError(`${name} must be a whole number of seconds, at least ${min} (got "${value}").`);
  }
  return n;
}

export { ConfigError };

export function parseJwtMode(value: string | undefined): JwtMode {
  const mode = (value ?? "hs256").trim().toLowerCase();
  if (mode === "hs256" || mode === "jwks" || mode === "both") return mode;
  throw new ConfigError(`AUTH_JWT_MODE must be one of hs256, jwks or both (got "${value}").`);
}

export function checkSecret(secret: string | undefined, mode: JwtMode): string {
  if (!secret) {
    throw new ConfigError(
      "BETTER_AUTH_SECRET is not set. Generate one with `openssl rand -base64 48` " +
        "and give the same value to the edge.",
    );
  }
  const bytes = new TextEncoder().encode(secret).length;
  if (mode !== "jwks" && bytes < MIN_SECRET_BYTES) {
    throw new ConfigError(`BETTER_AUTH_SECRET is ${bytes} bytes; HS256 signing needs at least ${MIN_SECRET_BYTES}.`);
  }
  return secret;
}

export function normalizeBaseURL(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`BETTER_AUTH_URL is not a valid URL: "${value}".`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new ConfigError(`BETTER_AUTH_URL must be a bare origin such as http://localhost:3000 (got "${value}").`);
  }
  return url.origin;
}

/**
 * The jwt plugin's `definePayload`: the token's own claims, beyond the `sub`,
 * `iat`, `exp`, `iss` and `aud` the plugin adds. Only `sid`, the session's
 * id (never its token, which is a bearer secret), so the backend can refuse
 * tokens of a session that has ended (src/lib/auth/revocations.ts). The name
 * and e-mail stay out (a long name once made a token the edge refused as too
 * large).
 */
export const tokenPayload = ({ session }: { session: { id: string } }): Record<string, unknown> => ({
  sid: session.id,
});

/**
 * HS256 signer for the jwt plugin's documented `jwt.sign` hook. The plugin has
 * already filled `sub`, `iat`, `exp`, `iss` and `aud`; the key is the UTF-8
 * bytes of BETTER_AUTH_SECRET. Extra header parameters the plugin asks for
 * (e.g. a different `typ` for logout tokens) are kept; `alg` is always HS256.
 */
export function hs256Signer(secret: string) {
  const key = new TextEncoder().encode(secret);
  return (payload: JWTPayload, header?: { typ?: string; cty?: string }) =>
    new SignJWT(payload).setProtectedHeader({ ...header, alg: "HS256", typ: header?.typ ?? "JWT" }).sign(key);
}

export function jwtPlugin(settings: Pick<AuthSettings, "secret" | "baseURL" | "mode" | "jwks" | "claims">) {
  const audience = settings.claims?.audience ?? [settings.baseURL];
  const common = {
    issuer: settings.claims?.issuer ?? settings.baseURL,
    audience: audience.length === 1 ? audience[0] : audience,
    expirationTime: "15m", // = TOKEN_LIFETIME_SECONDS
    definePayload: tokenPayload,
  };
  if (settings.mode === "jwks") {
    // Better Auth's own asymmetric keys (EdDSA / Ed25519 by default), published
    // at ${BETTER_AUTH_URL}/api/auth/jwks for the backend to verify with.
    const { alg = "EdDSA", rotationInterval, gracePeriod } = settings.jwks ?? {};
    return jwt({
      jwt: common,
      jwks: {
        keyPairConfig: { alg },
        ...(rotationInterval !== undefined ? { rotationInterval } : {}),
        ...(gracePeriod !== undefined ? { gracePeriod } : {}),
      },
    });
  }
  return jwt({
    jwt: { ...common, sign: hs256Signer(settings.secret) },
    // With a custom `sign` the plugin requires these two to be present; no key
    // pair is generated or published (`/api/auth/jwks` answers 404 in this mode).
    jwks: {
      remoteUrl: `${settings.baseURL}/api/auth/jwks`,
      keyPairConfig: { alg: "EdDSA" },
    },
  });
}

/**
 * The most rows a Better Auth query without its own limit reads (its default
 * is 100): far beyond the sessions one user can hold (each sign-in makes
 * one, at most 3 per 10 s per address), small enough to stay a bound.
 */
export const FIND_MANY_LIMIT = 1_000_000;

export function createAuthOptions(settings: AuthSettings) {
  const baseURL = normalizeBaseURL(settings.baseURL);
  const secret = checkSecret(settings.secret, settings.mode);
  return {
    appName: "Todo",
    baseURL,
    basePath: "/api/auth",
    secret,
    database: settings.database,
    emailAndPassword: {
      enabled: true,
      requireEmailVerification: false,
      autoSignIn: true, // instant sign-up: see src/lib/auth/sign-up-privacy.ts for what that reveals
      minPasswordLength: PASSWORD_MIN_LENGTH,
      maxPasswordLength: PASSWORD_MAX_LENGTH,
    },
    // Only the endpoints the app uses (src/lib/auth/endpoints.ts).
    disabledPaths: DISABLED_AUTH_PATHS,
    // Better Auth's per-address limits (production only, its defaults: sign-in
    // and sign-up 3 per 10 s, the rest 100 per 10 s), counted in the database
    // (table `rateLimit`) so restarts and replicas share them.
    rateLimit: { storage: "database" },
    advanced: {
      // Better Auth runs a session's delete hooks (which record ended sessions,
      // src/lib/auth/revocations.ts) only for the rows a `findMany` returns,
      // and that reads 100 rows unless told otherwise: "sign out everywhere",
      // a ban or a user's deletion would leave the 101st session's tokens
      // valid. No query of the app's relies on that default.
      database: { defaultFindManyLimit: FIND_MANY_LIMIT },
      ipAddress: settings.clientAddressHeader
        ? { ipAddressHeaders: [settings.clientAddressHeader], trustedProxies: settings.trustedProxies ?? [] }
        : { trustedProxies: settings.trustedProxies ?? [] },
    },
    telemetry: { enabled: false },
    plugins: [
      jwtPlugin({ secret, baseURL, mode: settings.mode, jwks: settings.jwks, claims: settings.claims }),
      userFields(),
      passwordPolicy(),
      signUpPrivacy(),
      signInThrottle({ secret }),
      sessionRevocations(),
    ],
  } satisfies BetterAuthOptions;
}
