/**
 * The Better Auth endpoints this app serves, and every other one it turns
 * off. Anything the app does not call is attack surface (e.g.
 * `/verify-password` let a session holder guess the password unthrottled).
 */

/** Served under /api/auth, by method. Everything else answers 404. */
export const ENABLED_AUTH_ROUTES = {
  "/sign-up/email": "POST", // the sign-up form
  "/sign-in/email": "POST", // the sign-in form
  "/sign-out": "POST", // the Todo page's Sign out button
  "/revoke-sessions": "POST", // "Sign out everywhere": ends every session of the user
  "/get-session": "GET", // the session as JSON (Better Auth's client; the tests)
  "/token": "GET", // the JWT for the edge (jwtClient)
  "/jwks": "GET", // public keys for the edge in AUTH_JWT_MODE=jwks (404 otherwise)
  "/ok": "GET", // the container health check
} as const satisfies Record<string, "GET" | "POST">;

export type EnabledAuthPath = keyof typeof ENABLED_AUTH_ROUTES;

/**
 * Better Auth's `disabledPaths`: every endpoint of Better Auth 1.7 with the
 * options this app uses (core, email+password, jwt plugin) that is not in
 * {@link ENABLED_AUTH_ROUTES}. A unit test checks this list against the
 * library's own endpoint list, so an upgrade that adds one fails until it is
 * placed here or enabled. Paths with parameters (`/callback/:id`,
 * `/reset-password/:token`) cannot be matched by `disabledPaths` (exact
 * strings): the route handler refuses everything outside the enabled list
 * before Better Auth sees it ({@link isEnabledAuthRoute}).
 */
export const DISABLED_AUTH_PATHS = [
  "/account-info",
  "/callback/:id",
  "/change-email",
  "/change-password",
  "/delete-user",
  "/delete-user/callback",
  "/error",
  "/get-access-token",
  "/link-social",
  "/list-accounts",
  "/list-sessions",
  "/refresh-token",
  "/request-password-reset",
  "/reset-password",
  "/reset-password/:token",
  "/revoke-other-sessions",
  "/revoke-session",
  "/send-verification-email",
  "/sign-in/social",
  "/unlink-account",
  "/update-session",
  "/update-user",
  "/verify-email",
  "/verify-password",
];

/** The path under the auth base path (`/api/auth`), or null when the URL is elsewhere. */
export function authPath(url: string, basePath = "/api/auth"): string | null {
  const { pathname } = new URL(url);
  if (!pathname.startsWith(basePath + "/")) return null;
  return pathname.slice(basePath.length);
}

/** Whether `method` on `path` (under /api/auth, exactly as sent) is one of the served endpoints. */
export function isEnabledAuthRoute(method: string, path: string | null): path is EnabledAuthPath {
  if (path === null || !Object.hasOwn(ENABLED_AUTH_ROUTES, path)) return false;
  const wanted = ENABLED_AUTH_ROUTES[path as EnabledAuthPath];
  const m = method.toUpperCase();
  return m === wanted || (wanted === "GET" && m === "HEAD");
}
