/**
 * Start-up check (Node.js runtime only): a missing or short
 * BETTER_AUTH_SECRET, a bad BETTER_AUTH_URL or AUTH_JWT_MODE stops the server
 * with a clear message instead of failing on the first request.
 */
import { authSettingsFromEnv } from "./lib/auth";

try {
  const settings = authSettingsFromEnv();
  const keys =
    settings.mode === "jwks"
      ? `, AUTH_JWKS_ALG=${settings.jwks.alg}` +
        (settings.jwks.rotationInterval ? `, rotation every ${settings.jwks.rotationInterval} s` : "")
      : "";
  console.log(`[auth] AUTH_JWT_MODE=${settings.mode}${keys}, BETTER_AUTH_URL=${settings.baseURL}`);
} catch (err) {
  console.error(`[auth] configuration error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
