"use client";

/** The Todo page: who is signed in, sign-out (here or everywhere), the add form, the filters and the list. */
import { useEffect, useMemo, useState } from "react";
import { TodoApi, TokenCache } from "@/lib/api-client";
import { authClient, betterAuthTokenSource } from "@/lib/auth-client";
import { announceSignOut, onSignOutElsewhere } from "@/lib/sign-out-broadcast";
import { useTasks } from "@/hooks/useTasks";
import ErrorBanner from "./ErrorBanner";
import NewTaskForm from "./NewTaskForm";
import TaskFilters from "./TaskFilters";
import TaskList from "./TaskList";

interface User {
  id: string;
  name: string;
  email: string;
}

export default function TodoApp({ apiUrl, user }: { apiUrl: string; user: User }) {
  const tokens = useMemo(() => new TokenCache(betterAuthTokenSource), []);
  const api = useMemo(() => new TodoApi({ baseUrl: apiUrl, userId: user.id, tokens }), [apiUrl, user.id, tokens]);
  const list = useTasks(api);
  const [signingOut, setSigningOut] = useState(false);

  // Signed out in another tab: drop the token and leave, like this tab's own sign-out.
  useEffect(
    () =>
      onSignOutElsewhere(() => {
        tokens.invalidate();
        // eslint-disable-next-line @next/next/no-location-assign-relative-destination
        window.location.assign("/sign-in?signedOut=1");
      }),
    [tokens],
  );
  // Back from the back/forward cache, the page missed any such message: ask
  // the server again (it sends a signed-out tab to sign-in).
  useEffect(() => {
    const onPageShow = (event: PageTransitionEvent) => {
      if (!event.persisted) return;
      tokens.invalidate();
      window.location.reload();
    };
    window.addEventListener("pageshow", onPageShow);
    return () => window.removeEventListener("pageshow", onPageShow);
  }, [tokens]);

  /**
   * Ends this session, or with `everywhere` every session of the user (other
   * browsers and devices too). The backend refuses their tokens within
   * seconds (src/lib/auth/revocations.ts).
   */
  async function onSignOut(everywhere = false) {
    setSigningOut(true);
    tokens.invalidate();
    try {
      if (everywhere) await authClient.revokeSessions();
      await authClient.signOut();
    } finally {
      announceSignOut();
      // A full navigation: nothing of this page's state survives.
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination
      window.location.assign("/sign-in?signedOut=1");
    }
  }

  return (
    <main className="card">
      <header className="topbar">
        <div>
          <h1>Your tasks</h1>
          <p className="muted small">
            Signed in as <strong>{user.name}</strong> ({user.email})
          </p>
        </div>
        <div className="actions">
          <button type="button" onClick={() => onSignOut()} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
          <button type="button" onClick={() => onSignOut(true)} disabled={signingOut}>
            Sign out everywhere
          </button>
        </div>
      </header>

      <NewTaskForm onCreate={list.create} />

      {list.error && <ErrorBanner message={list.error} onRetry={list.reload} onDismiss={list.dismissError} />}

      <TaskFilters
        filter={list.filter}
        onChange={list.setFilter}
        refreshing={list.fetching === "first" && list.tasks !== null}
      />

      <TaskList list={list} />
    </main>
  );
}
