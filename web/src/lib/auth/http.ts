/**
 * What the /api/auth route does around Better Auth's handler: only the
 * enabled endpoints get through (404 otherwise), request bodies are capped
 * (413 before anything parses them), and every answer is `no-store` (tokens,
 * sessions and cookies must not sit in a cache), with HSTS on https.
 */
import { strictTransportSecurity } from "../security-headers";
import { authPath, isEnabledAuthRoute } from "./endpoints";

/** The largest request body /api/auth accepts: a sign-up is well under 1 KiB. */
export const MAX_AUTH_BODY_BYTES = 16 * 1024;

/** An answer in Better Auth's error shape, `{code, message}`. */
export function authError(status: number, code: string, message: string): Response {
  return Response.json({ code, message }, { status });
}

const tooLarge = () =>
  authError(413, "BODY_TOO_LARGE", `The request body is larger than ${MAX_AUTH_BODY_BYTES / 1024} KiB.`);

/**
 * The body, read up to `limit` bytes: null as soon as it is longer (whatever
 * `Content-Length` said; the rest is not read).
 */
export async function readBodyUpTo(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/**
 * Checks `request` and passes it to `handler` (Better Auth's), or answers
 * itself: 404 for an endpoint the app does not serve, 413 for a body over
 * {@link MAX_AUTH_BODY_BYTES}.
 */
export async function guardAuthRequest(
  request: Request,
  handler: (request: Request) => Promise<Response>,
  baseURL: string,
): Promise<Response> {
  const path = authPath(request.url);
  if (!isEnabledAuthRoute(request.method, path)) {
    return withAuthHeaders(authError(404, "NOT_FOUND", "Not found."), path, baseURL);
  }
  let forwarded = request;
  if (request.method !== "GET" && request.method !== "HEAD") {
    const declared = request.headers.get("content-length");
    if (declared !== null && !(Number(declared) <= MAX_AUTH_BODY_BYTES)) {
      return withAuthHeaders(tooLarge(), path, baseURL);
    }
    const body = await readBodyUpTo(request.body, MAX_AUTH_BODY_BYTES);
    if (body === null) return withAuthHeaders(tooLarge(), path, baseURL);
    // The body as read (a chunked one included): its length, no transfer coding.
    const headers = new Headers(request.headers);
    headers.delete("transfer-encoding");
    headers.set("content-length", String(body.byteLength));
    forwarded = new Request(request.url, {
      method: request.method,
      headers,
      body: body as BodyInit,
      signal: request.signal,
    });
  }
  return withAuthHeaders(await handler(forwarded), path, baseURL);
}

/** `Cache-Control: no-store` on all but the public keys, and HSTS on https. */
export function withAuthHeaders(response: Response, path: string | null, baseURL: string): Response {
  // Better Auth's Response may have immutable headers: copy it.
  const out = new Response(response.body, response);
  if (path !== "/jwks") {
    out.headers.set("Cache-Control", "no-store");
    out.headers.set("Pragma", "no-cache");
  }
  const hsts = strictTransportSecurity(baseURL);
  if (hsts) out.headers.set("Strict-Transport-Security", hsts);
  return out;
}
