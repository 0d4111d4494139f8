/**
 * Runs once when the Next server starts (`next start` / `next dev`, not
 * `next build`). The Node.js part checks the auth settings so a bad
 * configuration stops the server at start-up (see instrumentation-node.ts).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    await import("./instrumentation-node");
  }
}
