/**
 * The security headers: a strict Content-Security-Policy for the pages (with
 * a fresh nonce per request, set in `src/proxy.ts`), HSTS when the app is
 * served over https, and the static headers every response carries (set in
 * `next.config.ts`).
 */

/** On every response, assets and API included (next.config.ts `headers()`). */
export const STATIC_SECURITY_HEADERS = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Full URL to this origin, nothing to others (the edge sees no page paths);
  // same-origin POSTs still carry `Origin`, which Better Auth's CSRF check needs.
  { key: "Referrer-Policy", value: "same-origin" },
];

export interface CspOptions {
  /** Fresh, unguessable, per response. */
  nonce: string;
  /** The edge's URL as the browser calls it (NEXT_PUBLIC_API_URL). */
  apiUrl: string;
  /** BETTER_AUTH_URL: an https origin also upgrades any http subresource. */
  baseURL: string;
  /** `next dev`: React needs eval and inline styles for its dev tools, HMR a websocket. */
  dev?: boolean;
}

/**
 * Scripts only with this response's nonce (Next puts it on its own scripts)
 * and what they load ('strict-dynamic'); styles from the app's origin; calls
 * to the app and the edge only; no plugins, no <base>, forms only to the
 * app, and no framing anywhere (clickjacking).
 */
export function contentSecurityPolicy({ nonce, apiUrl, baseURL, dev = false }: CspOptions): string {
  const edge = originOf(apiUrl);
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    dev ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self'",
    "font-src 'self'",
    ["connect-src 'self'", edge, dev ? "ws: wss:" : ""].filter(Boolean).join(" "),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (isHttps(baseURL)) directives.push("upgrade-insecure-requests");
  return directives.join("; ");
}

/** `Strict-Transport-Security`, only when BETTER_AUTH_URL is https (a browser ignores it over http anyway). */
export function strictTransportSecurity(baseURL: string): string | null {
  return isHttps(baseURL) ? "max-age=31536000; includeSubDomains" : null;
}

/** 16 random bytes, base64: a CSP nonce. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === "https:";
  } catch {
    return false;
  }
}

/** The origin of `url`, or null when it is not a URL (then only 'self' is allowed). */
function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}
