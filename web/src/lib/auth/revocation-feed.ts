/**
 * `GET /api/internal/revocations[?since=<cursor>]`: the ended sessions, for
 * the edge and auth-verify (they poll it about every second). Never public:
 * the caller presents `Authorization: Bearer <AUTH_REVOCATION_SECRET>`; a
 * wrong or missing one gets 401, and without the setting the feed does not
 * exist (404). Answers are `no-store`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readRevocations, type RevocationAdapter } from "./revocations";

export const FEED_PATH = "/api/internal/revocations";

const problem = (status: number, title: string, detail: string) =>
  new Response(JSON.stringify({ type: "about:blank", title, status, detail }), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store" },
  });

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Whether `header` is `Bearer <secret>`, compared in constant time. */
export function presentsSecret(header: string | null, secret: string): boolean {
  const match = /^Bearer ([^\s]+)$/.exec(header ?? "");
  return match !== null && timingSafeEqual(digest(match[1]!), digest(secret));
}

/** Answers one feed request; `secret` is AUTH_REVOCATION_SECRET (unset: no feed). */
export async function serveRevocationFeed(
  request: Request,
  db: () => Promise<RevocationAdapter>,
  secret: string | undefined,
): Promise<Response> {
  if (!secret) return problem(404, "Not Found", "The revocation feed is not enabled (AUTH_REVOCATION_SECRET).");
  if (request.method !== "GET" && request.method !== "HEAD") {
    const answer = problem(405, "Method Not Allowed", "Use GET.");
    answer.headers.set("allow", "GET, HEAD");
    return answer;
  }
  if (!presentsSecret(request.headers.get("authorization"), secret)) {
    const answer = problem(401, "Unauthorized", "The revocation feed needs the shared AUTH_REVOCATION_SECRET.");
    answer.headers.set("www-authenticate", 'Bearer realm="revocations"');
    return answer;
  }
  const raw = new URL(request.url).searchParams.get("since");
  let since: number | null = null;
  if (raw !== null) {
    if (!/^\d{1,15}$/.test(raw)) return problem(400, "Bad Request", "since must be a cursor from an earlier answer.");
    since = Number(raw);
  }
  const feed = await readRevocations(await db(), since);
  return Response.json(feed, { headers: { "cache-control": "no-store" } });
}
