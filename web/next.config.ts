import type { NextConfig } from "next";
import { STATIC_SECURITY_HEADERS } from "./src/lib/security-headers";

// No network at build time: no next/font/google, no remote images.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native / server-only database drivers stay out of the bundle.
  serverExternalPackages: ["better-sqlite3", "pg"],
  // The headers that do not depend on run-time settings, on every response.
  // The CSP (a nonce per page) and HSTS (only when BETTER_AUTH_URL is https)
  // are set at request time: src/proxy.ts and the auth route.
  async headers() {
    return [{ source: "/:path*", headers: STATIC_SECURITY_HEADERS }];
  },
};

export default nextConfig;
