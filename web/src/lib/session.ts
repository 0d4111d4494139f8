import { headers } from "next/headers";
import { getAuth } from "./auth";

/** The current Better Auth session (server components only), or null. */
export async function currentSession() {
  return getAuth().api.getSession({ headers: await headers() });
}
