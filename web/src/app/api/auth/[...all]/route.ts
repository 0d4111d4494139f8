import { getAuth } from "@/lib/auth";

// Better Auth's endpoints: /api/auth/sign-up/email, /sign-in/email, /sign-out,
// /get-session, /token (the JWT for the edge), /jwks (JWKS mode only), …
export const dynamic = "force-dynamic";

export function GET(request: Request) {
  return getAuth().handler(request);
}

export function POST(request: Request) {
  return getAuth().handler(request);
}
