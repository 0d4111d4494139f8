"use client";

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, TodoApi, TokenCache, type Task, type TaskStatusFilter } from "@/lib/api-client";
import { authClient, betterAuthTokenSource } from "@/lib/auth-client";

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 1000;

const FILTERS: { value: TaskStatusFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

interface User {
  id: string;
  name: string;
  email: string;
}

function matches(task: Task, filter: TaskStatusFilter): boolean {
  return filter === "all" || (filter === "completed") === task.completed;
}

function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}

export default function TodoApp({ apiUrl, user }: { apiUrl: string; user: User }) {
  const tokens = useMemo(() => new TokenCache(betterAuthTokenSource), []);
  const api = useMemo(() => new TodoApi({ baseUrl: apiUrl, userId: user.id, tokens }), [apiUrl, user.id, tokens]);

  const [filter, setFilter] = useState<TaskStatusFilter>("all");
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Set<number>>(new Set());
  const [signingOut, setSigningOut] = useState(false);
  const loadSeq = useRef(0);

  /** Every failed call ends here: expired session → sign-in page, otherwise say what happened. */
  const fail = useCallback((err: unknown) => {
    if (err instanceof ApiError && err.isSessionExpired) {
      // A full navigation: nothing of this page's state survives.
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination
      window.location.assign("/sign-in?expired=1");
      return;
    }
    setError(describeError(err));
  }, []);

  const load = useCallback(
    async (which: TaskStatusFilter) => {
      const seq = ++loadSeq.current;
      setLoading(true);
      try {
        const list = await api.listTasks(which);
        if (seq === loadSeq.current) {
          setTasks(list);
          setError(null);
        }
      } catch (err) {
        if (seq === loadSeq.current) fail(err);
      } finally {
        if (seq === loadSeq.current) setLoading(false);
      }
    },
    [api, fail],
  );

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- replaced by the useTasks hook
    void load(filter);
  }, [load, filter]);

  const withBusy = useCallback(
    async (id: number, action: () => Promise<void>) => {
      setBusy((prev) => new Set(prev).add(id));
      try {
        await action();
        setError(null);
      } catch (err) {
        fail(err);
      } finally {
        setBusy((prev) => {
          const next = new Set(prev);
          next.delete(id);
          return next;
        });
      }
    },
    [fail],
  );

  const replace = useCallback(
    (updated: Task) =>
      setTasks((prev) =>
        prev === null
          ? prev
          : matches(updated, filter)
            ? prev.map((t) => (t.id === updated.id ? updated : t))
            : prev.filter((t) => t.id !== updated.id),
      ),
    [filter],
  );

  async function onCreate(title: string, description: string): Promise<boolean> {
    try {
      const created = await api.createTask({
        title,
        ...(description ? { description } : {}),
      });
      setTasks((prev) => (prev === null || !matches(created, filter) ? prev : [...prev, created]));
      setError(null);
      return true;
    } catch (err) {
      fail(err);
      return false;
    }
  }

  async function onSignOut() {
    setSigningOut(true);
    tokens.invalidate();
    try {
      await authClient.signOut();
    } finally {
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
        <button type="button" onClick={onSignOut} disabled={signingOut}>
          {signingOut ? "Signing out…" : "Sign out"}
        </button>
      </header>

      <NewTaskForm onCreate={onCreate} />

      {error && (
        <div className="error" role="alert">
          <span>{error}</span>
          <span className="error-actions">
            <button type="button" className="link" onClick={() => void load(filter)}>
              Retry
            </button>
            <button type="button" className="link" onClick={() => setError(null)} aria-label="Dismiss error">
              Dismiss
            </button>
          </span>
        </div>
      )}

      <nav className="filters" aria-label="Filter tasks">
        {FILTERS.map((f) => (
          <button
            key={f.value}
            type="button"
            className={f.value === filter ? "filter active" : "filter"}
            aria-pressed={f.value === filter}
            onClick={() => setFilter(f.value)}
          >
            {f.label}
          </button>
        ))}
        {loading && tasks !== null && <span className="muted small">Refreshing…</span>}
      </nav>

      {tasks === null ? (
        loading ? (
          <p className="muted" role="status">
            Loading tasks…
          </p>
        ) : (
          <p className="muted">Tasks could not be loaded.</p>
        )
      ) : tasks.length === 0 ? (
        <p className="empty" data-testid="empty">
          {filter === "all"
            ? "No tasks yet. Add your first one above."
            : filter === "pending"
              ? "Nothing pending. Nice work!"
              : "No completed tasks yet."}
        </p>
      ) : (
        <ul className="tasks" aria-label="Tasks">
          {tasks.map((task) => (
            <TaskItem
              key={task.id}
              task={task}
              busy={busy.has(task.id)}
              onToggle={() => withBusy(task.id, async () => replace(await api.toggleComplete(task.id)))}
              onDelete={() =>
                withBusy(task.id, async () => {
                  await api.deleteTask(task.id);
                  setTasks((prev) => prev?.filter((t) => t.id !== task.id) ?? prev);
                })
              }
              onSave={async (title, description) => {
                let ok = false;
                await withBusy(task.id, async () => {
                  replace(
                    await api.updateTask(task.id, {
                      title,
                      ...(description ? { description } : {}),
                      completed: task.completed,
                    }),
                  );
                  ok = true;
                });
                return ok;
              }}
            />
          ))}
        </ul>
      )}
    </main>
  );
}

function NewTaskForm({ onCreate }: { onCreate: (title: string, description: string) => Promise<boolean> }) {
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [pending, setPending] = useState(false);
  const [hint, setHint] = useState<string | null>(null);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const t = title.trim();
    if (!t) {
      setHint("Give the task a title.");
      return;
    }
    setHint(null);
    setPending(true);
    const ok = await onCreate(t, description.trim());
    setPending(false);
    if (ok) {
      setTitle("");
      setDescription("");
    }
  }

  return (
    <form className="new-task stack" onSubmit={onSubmit} aria-label="Add a task">
      <TaskFields
        names={["title", "description"]}
        title={title}
        description={description}
        onTitle={setTitle}
        onDescription={setDescription}
        placeholder="What needs doing?"
        descriptionLabel={
          <span>
            Description <span className="muted small">(optional)</span>
          </span>
        }
      />
      {hint && <p className="hint warn">{hint}</p>}
      <div>
        <button type="submit" className="primary" disabled={pending}>
          {pending ? "Adding…" : "Add task"}
        </button>
      </div>
    </form>
  );
}

/** The title and description inputs, shared by the add and edit forms. */
function TaskFields({
  names,
  title,
  description,
  onTitle,
  onDescription,
  descriptionLabel,
  placeholder,
  autoFocus,
}: {
  names: [title: string, description: string];
  title: string;
  description: string;
  onTitle: (value: string) => void;
  onDescription: (value: string) => void;
  descriptionLabel: ReactNode;
  placeholder?: string;
  autoFocus?: boolean;
}) {
  return (
    <>
      <label>
        Title
        <input
          name={names[0]}
          value={title}
          maxLength={TITLE_MAX}
          placeholder={placeholder}
          autoFocus={autoFocus}
          onChange={(e) => onTitle(e.target.value)}
        />
      </label>
      <label>
        {descriptionLabel}
        <textarea
          name={names[1]}
          value={description}
          maxLength={DESCRIPTION_MAX}
          rows={2}
          onChange={(e) => onDescription(e.target.value)}
        />
      </label>
    </>
  );
}

function TaskItem({
  task,
  busy,
  onToggle,
  onDelete,
  onSave,
}: {
  task: Task;
  busy: boolean;
  onToggle: () => void;
  onDelete: () => void;
  onSave: (title: string, description: string) => Promise<boolean>;
}) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? "");
  const [hint, setHint] = useState<string | null>(null);

  function startEdit() {
    setTitle(task.title);
    setDescription(task.description ?? "");
    setHint(null);
    setEditing(true);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const t = title.trim();
    if (!t) {
      setHint("The title cannot be empty.");
      return;
    }
    if (await onSave(t, description.trim())) setEditing(false);
  }

  if (editing) {
    return (
      <li className="task editing" data-testid="task" data-task-id={task.id}>
        <form className="stack" onSubmit={submit} aria-label={`Edit “${task.title}”`}>
          <TaskFields
            names={["edit-title", "edit-description"]}
            title={title}
            description={description}
            onTitle={setTitle}
            onDescription={setDescription}
            autoFocus
            descriptionLabel="Description"
          />
          {hint && <p className="hint warn">{hint}</p>}
          <div className="row">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
            <button type="button" onClick={() => setEditing(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li
      className={task.completed ? "task done" : "task"}
      data-testid="task"
      data-task-id={task.id}
      data-completed={task.completed}
      aria-busy={busy}
    >
      <input
        type="checkbox"
        checked={task.completed}
        disabled={busy}
        onChange={onToggle}
        aria-label={task.completed ? `Mark “${task.title}” as pending` : `Mark “${task.title}” as completed`}
      />
      <div className="task-body">
        <span className="task-title">{task.title}</span>
        {task.description && <p className="task-description">{task.description}</p>}
        <time className="task-date muted small" dateTime={task.created_at}>
          Added {new Date(task.created_at).toLocaleString()}
        </time>
      </div>
      <div className="row">
        <button type="button" onClick={startEdit} disabled={busy}>
          Edit
        </button>
        <button type="button" className="danger" onClick={onDelete} disabled={busy}>
          Delete
        </button>
      </div>
    </li>
  );
}
