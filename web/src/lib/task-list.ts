/**
 * The Todo page's task list as a pure state machine (the `useTasks` hook runs
 * it with `useReducer`): pages loaded with limit/offset, and the changes the
 * user makes on top of them.
 *
 * The next page starts at `loaded.length`, which stays equal to the number of
 * the server's tasks (for this filter) before that point: a deletion, or an
 * update that moves a task out of the filter, removes it here as it does
 * there. A task created while later pages are still unloaded belongs after
 * them, so it is kept in `added` (shown last) until its page arrives.
 */
import type { Task, TaskPage, TaskStatusFilter } from "./api-client";

export interface TaskListState {
  filter: TaskStatusFilter;
  /** Bumped by every (re)load; an answer to an older load is ignored. */
  generation: number;
  /** The server's tasks from offset 0, page by page; null until the first page arrives. */
  loaded: Task[] | null;
  /** Tasks created here while more pages were unloaded (shown after `loaded`). */
  added: Task[];
  /** The server has tasks after `loaded`. */
  hasMore: boolean;
  /** What is being fetched: the first page, the next page, or nothing. */
  fetching: "first" | "more" | null;
}

export type TaskListAction =
  | { type: "reload"; filter: TaskStatusFilter }
  | { type: "fetchMore"; generation: number }
  | { type: "page"; generation: number; offset: number; page: TaskPage }
  | { type: "failed"; generation: number }
  | { type: "created"; task: Task }
  | { type: "updated"; task: Task }
  | { type: "deleted"; id: number };

export function initialTaskList(filter: TaskStatusFilter = "all"): TaskListState {
  return { filter, generation: 0, loaded: null, added: [], hasMore: false, fetching: "first" };
}

export function matchesFilter(task: Task, filter: TaskStatusFilter): boolean {
  return filter === "all" || (filter === "completed") === task.completed;
}

/** What the page shows: null while nothing has loaded yet. */
export function visibleTasks(state: TaskListState): Task[] | null {
  return state.loaded === null ? null : [...state.loaded, ...state.added];
}

function without(tasks: Task[], ids: Set<number>): Task[] {
  return tasks.filter((t) => !ids.has(t.id));
}

function applyPage(state: TaskListState, offset: number, page: TaskPage): TaskListState {
  if (offset === 0) {
    return { ...state, loaded: page.tasks, added: [], hasMore: page.hasMore, fetching: null };
  }
  if (state.loaded === null || offset !== state.loaded.length) {
    // The list changed while the page was on its way (it no longer starts
    // where this page does): drop it; "Load more" asks again from the new end.
    return { ...state, fetching: null };
  }
  const known = new Set(state.loaded.map((t) => t.id));
  const loaded = [...state.loaded, ...page.tasks.filter((t) => !known.has(t.id))];
  let added = without(state.added, new Set(page.tasks.map((t) => t.id)));
  if (!page.hasMore) {
    // Everything is loaded: what was created here (and not in the last page,
    // e.g. created after it was read) is simply the end of the list.
    loaded.push(...added);
    added = [];
  }
  return { ...state, loaded, added, hasMore: page.hasMore, fetching: null };
}

export function taskListReducer(state: TaskListState, action: TaskListAction): TaskListState {
  switch (action.type) {
    case "reload":
      // The old list stays visible ("Refreshing…") until the first page replaces it.
      return { ...state, filter: action.filter, generation: state.generation + 1, fetching: "first" };
    case "fetchMore":
      if (action.generation !== state.generation || !state.hasMore) return state;
      return { ...state, fetching: "more" };
    case "page":
      if (action.generation !== state.generation) return state;
      return applyPage(state, action.offset, action.page);
    case "failed":
      if (action.generation !== state.generation) return state;
      return { ...state, fetching: null };
    case "created": {
      if (state.loaded === null || !matchesFilter(action.task, state.filter)) return state;
      // Creation order: the new task is the server's last; after unloaded pages it waits in `added`.
      return state.hasMore
        ? { ...state, added: [...state.added, action.task] }
        : { ...state, loaded: [...state.loaded, action.task] };
    }
    case "updated": {
      const { task } = action;
      const keep = matchesFilter(task, state.filter);
      const update = (list: Task[]) =>
        keep ? list.map((t) => (t.id === task.id ? task : t)) : list.filter((t) => t.id !== task.id);
      return { ...state, loaded: state.loaded && update(state.loaded), added: update(state.added) };
    }
    case "deleted": {
      const gone = new Set([action.id]);
      return { ...state, loaded: state.loaded && without(state.loaded, gone), added: without(state.added, gone) };
    }
  }
}
