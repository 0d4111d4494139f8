"use client";

/** One task in the list: checkbox, title, description and date, edit and delete; or its edit form. */
import { useState, type FormEvent } from "react";
import type { Task } from "@/lib/api-client";
import type { TaskFieldsInput } from "@/hooks/useTasks";
import TaskFields from "./TaskFields";

export default function TaskItem({
  task,
  busy,
  paused,
  onToggle,
  onDelete,
  onSave,
}: {
  task: Task;
  /** A request for this task is under way. */
  busy: boolean;
  /** Task actions must wait (a page of tasks is on its way). */
  paused: boolean;
  onToggle: () => void;
  onDelete: () => void;
  onSave: (fields: TaskFieldsInput) => Promise<boolean>;
}) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? "");
  const [hint, setHint] = useState<string | null>(null);
  const disabled = busy || paused;

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
    if (await onSave({ title: t, description: description.trim() })) setEditing(false);
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
            <button type="submit" className="primary" disabled={disabled}>
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
        disabled={disabled}
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
        <button type="button" className="danger" onClick={onDelete} disabled={disabled}>
          Delete
        </button>
      </div>
    </li>
  );
}
