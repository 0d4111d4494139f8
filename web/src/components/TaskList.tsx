"use client";

/** The list itself: loading and empty states, the tasks, and "Load more" while the edge has more. */
import type { TaskStatusFilter } from "@/lib/api-client";
import type { UseTasks } from "@/hooks/useTasks";
import TaskItem from "./TaskItem";

const EMPTY: Record<TaskStatusFilter, string> = {
  all: "No tasks yet. Add your first one above.",
  pending: "Nothing pending. Nice work!",
  completed: "No completed tasks yet.",
};

export default function TaskList({ list }: { list: UseTasks }) {
  const { tasks } = list;
  if (tasks === null) {
    return list.fetching === "first" ? (
      <p className="muted" role="status">
        Loading tasks…
      </p>
    ) : (
      <p className="muted">Tasks could not be loaded.</p>
    );
  }
  if (tasks.length === 0) {
    return (
      <p className="empty" data-testid="empty">
        {EMPTY[list.filter]}
      </p>
    );
  }
  return (
    <>
      <ul className="tasks" aria-label="Tasks">
        {tasks.map((task) => (
          <TaskItem
            key={task.id}
            task={task}
            busy={list.busy.has(task.id)}
            paused={list.actionsPaused}
            onToggle={() => void list.toggle(task)}
            onDelete={() => void list.remove(task)}
            onSave={(fields) => list.save(task, fields)}
          />
        ))}
      </ul>
      {list.hasMore && (
        <div className="more" data-testid="more">
          <span className="muted small">Showing the first {tasks.length} tasks; there are more.</span>
          <button type="button" onClick={() => void list.loadMore()} disabled={!list.canLoadMore}>
            {list.fetching === "more" ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
    </>
  );
}
