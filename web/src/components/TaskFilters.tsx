"use client";

/** The All / Pending / Completed switch above the list. */
import type { TaskStatusFilter } from "@/lib/api-client";

const FILTERS: { value: TaskStatusFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

export default function TaskFilters({
  filter,
  onChange,
  refreshing,
}: {
  filter: TaskStatusFilter;
  onChange: (filter: TaskStatusFilter) => void;
  /** Show "Refreshing…" (a list is shown while the new one loads). */
  refreshing: boolean;
}) {
  return (
    <nav className="filters" aria-label="Filter tasks">
      {FILTERS.map((f) => (
        <button
          key={f.value}
          type="button"
          className={f.value === filter ? "filter active" : "filter"}
          aria-pressed={f.value === filter}
          onClick={() => onChange(f.value)}
        >
          {f.label}
        </button>
      ))}
      {refreshing && <span className="muted small">Refreshing…</span>}
    </nav>
  );
}
