/**
 * Sign-out in one tab signs out every tab: the tab that signs out tells the
 * others (a `BroadcastChannel`, or a `storage` event where there is none), and
 * each of them drops its JWT and goes to the sign-in page. The cookie is
 * shared, so their session is gone too; without this they would keep calling
 * the edge with their token until it expires (up to 15 minutes).
 */

const CHANNEL = "todo-auth";
const STORAGE_KEY = "todo-auth:signed-out";

// The tabs share one cookie jar: after a sign-out no tab has a session, whoever it showed.
const MESSAGE = { type: "signed-out" } as const;

function isSignedOut(data: unknown): boolean {
  return (data as { type?: unknown } | null)?.type === MESSAGE.type;
}

/** Tells the other tabs of this browser that the session ended. */
export function announceSignOut(): void {
  const message = MESSAGE;
  if (typeof BroadcastChannel !== "undefined") {
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage(message);
    channel.close();
    return;
  }
  try {
    // A new value every time, so the event fires even for a repeated sign-out.
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ ...message, at: Date.now() }));
  } catch {
    /* storage unavailable: the other tabs find out at their next call */
  }
}

/** Calls `onSignedOut` when another tab announces a sign-out; returns the unsubscribe function. */
export function onSignOutElsewhere(onSignedOut: () => void): () => void {
  if (typeof BroadcastChannel !== "undefined") {
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event: MessageEvent) => {
      if (isSignedOut(event.data)) onSignedOut();
    };
    return () => channel.close();
  }
  const onStorage = (event: StorageEvent) => {
    if (event.key !== STORAGE_KEY || !event.newValue) return;
    try {
      if (isSignedOut(JSON.parse(event.newValue))) onSignedOut();
    } catch {
      /* not ours */
    }
  };
  window.addEventListener("storage", onStorage);
  return () => window.removeEventListener("storage", onStorage);
}
