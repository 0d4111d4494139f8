/**
 * Runtime environment access.
 *
 * Next.js inlines `process.env.NEXT_PUBLIC_*` (and other literal
 * `process.env.X` reads in client bundles) at build time. Reading through a
 * computed key keeps the value a *runtime* setting on the server, so one
 * production build can be started against any edge URL.
 */
export function runtimeEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

export const DEFAULT_API_URL = "http://localhost:8080";
export const DEFAULT_BASE_URL = "http://localhost:3000";

/** The edge's base URL as the browser should use it (no trailing slash). */
export function apiUrlFromEnv(): string {
  return (runtimeEnv("NEXT_PUBLIC_API_URL") ?? DEFAULT_API_URL).replace(/\/+$/, "");
}
