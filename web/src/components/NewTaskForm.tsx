"use client";

/** The "Add a task" form: keeps what was typed when the edge refuses it. */
import { useState, type FormEvent } from "react";
import type { TaskFieldsInput } from "@/hooks/useTasks";
import TaskFields from "./TaskFields";

export default function NewTaskForm({ onCreate }: { onCreate: (fields: TaskFieldsInput) => Promise<boolean> }) {
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
    const ok = await onCreate({ title: t, description: description.trim() });
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
