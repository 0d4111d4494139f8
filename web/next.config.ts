import type { NextConfig } from "next";

// No network at build time: no next/font/google, no remote images.
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native / server-only database drivers stay out of the bundle.
  serverExternalPackages: ["better-sqlite3", "pg"],
};

export default nextConfig;
