import { getAuth } from "@/lib/auth";
import { guardAuthRequest } from "@/lib/auth/http";
import { DEFAULT_BASE_URL, runtimeEnv } from "@/lib/env";

// Better Auth's endpoints, only those the app uses (src/lib/auth/endpoints.ts):
// /api/auth/sign-up/email, /sign-in/email, /sign-out, /get-session, /token
// (the JWT for the edge), /jwks (JWKS mode only), /ok. Bodies are capped and
// every answer is no-store (src/lib/auth/http.ts).
export const dynamic = "force-dynamic";

function handle(request: Request) {
  return guardAuthRequest(
    request,
    (checked) => getAuth().handler(checked),
    runtimeEnv("BETTER_AUTH_URL") ?? DEFAULT_BASE_URL,
  );
}

export const GET = handle;
export const POST = handle;
