/**
 * Start-up (Node.js runtime only): a missing or short BETTER_AUTH_SECRET, a
 * bad BETTER_AUTH_URL, AUTH_JWT_MODE or AUTH_TRUSTED_PROXIES stops the server
 * with a clear message instead of failing on the first request; the
 * client-address hook is installed before requests are served.
 */
import { authSettingsFromEnv } from "./lib/auth";
import { installClientAddressHook } from "./lib/auth/client-address";

try {
  const settings = authSettingsFromEnv();
  // Before the first request is handled: the client's address for the rate
  // limits comes from the socket (src/lib/auth/client-address.ts).
  installClientAddressHook(settings.trustedProxies);
  const keys =
    settings.mode === "jwks"
      ? `, AUTH_JWKS_ALG=${settings.jwks.alg}` +
        (settings.jwks.rotationInterval ? `, rotation every ${settings.jwks.rotationInterval} s` : "")
      : "";
  const proxies = settings.trustedProxies.length
    ? `trusted proxies ${settings.trustedProxies.join(", ")}`
    : "no trusted proxies (client address = socket address)";
  console.log(`[auth] AUTH_JWT_MODE=${settings.mode}${keys}, BETTER_AUTH_URL=${settings.baseURL}, ${proxies}`);
} catch (err) {
  console.error(`[auth] configuration error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
