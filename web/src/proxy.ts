/**
 * Next.js Proxy (formerly middleware): every page response gets a strict
 * Content-Security-Policy with a fresh nonce, and HSTS when BETTER_AUTH_URL
 * is https. Next reads the nonce from the request's CSP header and puts it on
 * its own scripts (Next's documented approach; the root layout renders every
 * page at request time so each gets its nonce). `connect-src` names the edge
 * (NEXT_PUBLIC_API_URL), read at request time like everywhere else.
 * The auth API sets its own headers (src/app/api/auth/[...all]/route.ts).
 */
import { NextResponse, type NextRequest } from "next/server";
import { DEFAULT_BASE_URL, apiUrlFromEnv, runtimeEnv } from "@/lib/env";
import { contentSecurityPolicy, newNonce, strictTransportSecurity } from "@/lib/security-headers";

export function proxy(request: NextRequest) {
  const baseURL = runtimeEnv("BETTER_AUTH_URL") ?? DEFAULT_BASE_URL;
  const csp = contentSecurityPolicy({
    nonce: newNonce(),
    apiUrl: apiUrlFromEnv(),
    baseURL,
    dev: process.env.NODE_ENV === "development",
  });
  // Replaces whatever a client sent under this name: only this nonce counts.
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", csp);
  const hsts = strictTransportSecurity(baseURL);
  if (hsts) response.headers.set("Strict-Transport-Security", hsts);
  return response;
}

export const config = {
  // Pages only: not the auth API (its own headers, and no body copy for the
  // proxy), not build assets.
  matcher: ["/((?!api/|_next/static/|_next/image|favicon\\.ico).*)"],
};
