/**
 * The client's address for Better Auth's rate limits, taken from the TCP
 * socket, never from what the client says.
 *
 * Next.js (`next start`) tells app code the peer's address only through
 * `x-forwarded-for`, and only when the client sent none: a client that sends
 * its own `X-Forwarded-For` picks the address Better Auth rate-limits. A Next
 * proxy (middleware) or route handler sees the same headers and no socket, so
 * neither can tell a forged value from a real one. Node's
 * `http.server.request.start` diagnostics channel can: it is published for
 * every request, with the socket, before the server's request listener (Next)
 * runs. The subscriber installed here (from `instrumentation-node.ts` at
 * server start) writes the address into a request header whose name is
 * random per process, so no client can send it; Better Auth reads that header
 * alone (`advanced.ipAddress.ipAddressHeaders`).
 *
 * - No trusted proxies (`AUTH_TRUSTED_PROXIES` unset, direct `next start` or
 *   compose): the header holds the socket's address; `X-Forwarded-For` is ignored.
 * - Behind proxies: the header holds `X-Forwarded-For` with the socket's
 *   address appended (what one more proxy hop would send), and Better Auth's
 *   `trustedProxies` walks it from the right, skipping the trusted hops.
 */
import { randomBytes } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { ConfigError } from "../config-error";

interface HookState {
  header: string;
  trustedProxies: readonly string[];
}

const STATE = Symbol.for("todo.clientAddressHook");
const holder = globalThis as typeof globalThis & { [STATE]?: HookState };

/**
 * The header value for one request: the peer's address, preceded by the
 * forwarded chain when proxies are trusted (otherwise the chain is the
 * client's own word and is dropped).
 */
export function addressChain(
  forwardedFor: string | string[] | undefined,
  peer: string | undefined,
  trustProxies: boolean,
): string | undefined {
  if (!peer) return undefined;
  if (!trustProxies || forwardedFor === undefined) return peer;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).trim();
  return chain ? `${chain}, ${peer}` : peer;
}

/**
 * Installs the subscriber once per process and returns the header it writes
 * (later calls return the same header; their `trustedProxies` must match).
 * A request parsed before installation has no such header: Better Auth then
 * finds no address and puts it into one shared bucket (it never trusts it).
 */
export function installClientAddressHook(trustedProxies: readonly string[]): string {
  const existing = holder[STATE];
  if (existing) {
    if (existing.trustedProxies.join(",") !== trustedProxies.join(",")) {
      throw new ConfigError("The client-address hook was installed with other trusted proxies.");
    }
    return existing.header;
  }
  const header = `x-todo-client-address-${randomBytes(12).toString("hex")}`;
  const trust = trustedProxies.length > 0;
  subscribe("http.server.request.start", (message) => {
    const request = (message as { request?: IncomingMessage }).request;
    if (!request) return;
    const value = addressChain(request.headers["x-forwarded-for"], request.socket?.remoteAddress, trust);
    if (value === undefined) delete request.headers[header];
    else request.headers[header] = value;
  });
  holder[STATE] = { header, trustedProxies: [...trustedProxies] };
  return header;
}

/**
 * AUTH_TRUSTED_PROXIES: comma-separated IP addresses or CIDR ranges of the
 * reverse proxies in front of the app (e.g. `10.0.0.5` or `172.18.0.0/16`).
 * Unset or empty: none (the socket's address is the client's).
 */
export function parseTrustedProxies(value: string | undefined): string[] {
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, prefix, ...rest] = entry.split("/");
    const family = isIP(address ?? "");
    const maxBits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxBits);
    if (!family || !prefixOk || rest.length > 0) {
      throw new ConfigError(
        `AUTH_TRUSTED_PROXIES must list IP addresses or CIDR ranges, comma-separated (got "${entry}").`,
      );
    }
  }
  return entries;
}
