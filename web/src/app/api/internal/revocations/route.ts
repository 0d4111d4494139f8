import { getAuth } from "@/lib/auth";
import type { RevocationAdapter } from "@/lib/auth/revocations";
import { serveRevocationFeed } from "@/lib/auth/revocation-feed";
import { runtimeEnv } from "@/lib/env";

// The ended sessions, for the edge and auth-verify (src/lib/auth/revocation-feed.ts).
export const dynamic = "force-dynamic";

function handle(request: Request) {
  const db = async () => (await getAuth().$context).adapter as unknown as RevocationAdapter;
  return serveRevocationFeed(request, db, runtimeEnv("AUTH_REVOCATION_SECRET"));
}

export const GET = handle;
export const HEAD = handle;
