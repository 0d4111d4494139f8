/**
 * The client-address hook on a real Node HTTP server: the header it writes
 * holds the socket's address, whatever X-Forwarded-For or the header itself
 * the client sent; and the AUTH_TRUSTED_PROXIES parser. (Behind trusted
 * proxies, end to end through Better Auth: tests/web/client-address.test.ts.)
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@/lib/auth-options";
import { addressChain, installClientAddressHook, parseTrustedProxies } from "@/lib/auth/client-address";

describe("the hook (no trusted proxies)", () => {
  it("writes the socket's address into a header no client can set", async () => {
    const header = installClientAddressHook([]);
    expect(header).toMatch(/^x-todo-client-address-[0-9a-f]{24}$/);
    expect(installClientAddressHook([])).toBe(header); // once per process
    expect(() => installClientAddressHook(["10.0.0.1"])).toThrow(ConfigError);

    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.end();
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const { port } = server.address() as { port: number };
    try {
      await fetch(`http://127.0.0.1:${port}/`, {
        headers: { "x-forwarded-for": "203.0.113.1, 198.51.100.2", [header]: "192.0.2.66" },
      });
      await fetch(`http://127.0.0.1:${port}/`);
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
    expect(seen.map((h) => h[header])).toEqual(["127.0.0.1", "127.0.0.1"]);
    expect(seen[0]!["x-forwarded-for"]).toBe("203.0.113.1, 198.51.100.2"); // left as it was, and unused
  });
});

describe("addressChain", () => {
  it("is the peer alone unless proxies are trusted", () => {
    expect(addressChain("203.0.113.1", "10.0.0.2", false)).toBe("10.0.0.2");
    expect(addressChain(undefined, "10.0.0.2", true)).toBe("10.0.0.2");
    expect(addressChain("203.0.113.1, 198.51.100.2", "10.0.0.2", true)).toBe("203.0.113.1, 198.51.100.2, 10.0.0.2");
    expect(addressChain(["203.0.113.1", "198.51.100.2"], "10.0.0.2", true)).toBe("203.0.113.1,198.51.100.2, 10.0.0.2");
    expect(addressChain(" ", "10.0.0.2", true)).toBe("10.0.0.2");
    expect(addressChain("203.0.113.1", undefined, true)).toBeUndefined();
  });
});

describe("AUTH_TRUSTED_PROXIES", () => {
  it("takes IP addresses and CIDR ranges, comma-separated", () => {
    expect(parseTrustedProxies(undefined)).toEqual([]);
    expect(parseTrustedProxies(" ")).toEqual([]);
    expect(parseTrustedProxies("10.0.0.5, 172.18.0.0/16,::1, fd00::/8")).toEqual([
      "10.0.0.5",
      "172.18.0.0/16",
      "::1",
      "fd00::/8",
    ]);
  });

  it.each(["proxy.internal", "10.0.0.0/33", "10.0.0.1/", "::/129", "10.0.0.0/8/1", "10.0.0.256"])(
    "refuses %j",
    (value) => {
      expect(() => parseTrustedProxies(value)).toThrow(/AUTH_TRUSTED_PROXIES/);
    },
  );
});
