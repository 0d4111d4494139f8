"use client";

/**
 * The Todo page's state: the signed-in user's tasks through `TodoApi`, page
 * by page (`src/lib/task-list.ts` holds the list's rules), the filter, the
 * error to show, and which tasks have a request under way.
 */
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { ApiError, type Task, type TaskStatusFilter, type TodoApi } from "@/lib/api-client";
import { initialTaskList, taskListReducer, visibleTasks } from "@/lib/task-list";

export interface TaskFieldsInput {
  title: string;
  /** Empty = none. */
  description: string;
}

function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function useTasks(api: TodoApi) {
  const [state, dispatch] = useReducer(taskListReducer, "all", initialTaskList);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<ReadonlySet<number>>(new Set());
  // The latest load, for answers that arrive after the user moved on.
  const generation = useRef(state.generation);
  useEffect(() => {
    generation.current = state.generation;
  }, [state.generation]);

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

  // The first page, on start and on every reload (filter change, retry).
  const { filter } = state;
  const loadGeneration = state.generation;
  useEffect(() => {
    let current = true;
    api.listPage(filter, 0).then(
      (page) => {
        if (!current) return;
        dispatch({ type: "page", generation: loadGeneration, offset: 0, page });
        setError(null);
      },
      (err: unknown) => {
        if (!current) return;
        dispatch({ type: "failed", generation: loadGeneration });
        fail(err);
      },
    );
    return () => {
      current = false;
    };
  }, [api, filter, loadGeneration, fail]);

  const setFilter = useCallback((next: TaskStatusFilter) => dispatch({ type: "reload", filter: next }), []);
  const reload = useCallback(() => dispatch({ type: "reload", filter }), [filter]);

  // A deletion (or a toggle out of the filter) while a page is on its way
  // would shift the server's offsets under it: "load more" waits for task
  // actions to finish, and task actions wait for the page.
  const canLoadMore = state.hasMore && state.fetching === null && busy.size === 0;
  const loaded = state.loaded;
  const loadMore = useCallback(async () => {
    if (!canLoadMore || loaded === null) return;
    const gen = loadGeneration;
    const offset = loaded.length;
    dispatch({ type: "fetchMore", generation: gen });
    try {
      const page = await api.listPage(filter, offset);
      dispatch({ type: "page", generation: gen, offset, page });
      if (gen === generation.current) setError(null);
    } catch (err) {
      dispatch({ type: "failed", generation: gen });
      if (gen === generation.current) fail(err);
    }
  }, [api, canLoadMore, loaded, filter, loadGeneration, fail]);

  const withBusy = useCallback(
    async (id: number, action: () => Promise<void>): Promise<boolean> => {
      setBusy((prev) => new Set(prev).add(id));
      try {
        await action();
        setError(null);
        return true;
      } catch (err) {
        fail(err);
        return false;
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

  const create = useCallback(
    async ({ title, description }: TaskFieldsInput): Promise<boolean> => {
      try {
        const task = await api.createTask({ title, ...(description ? { description } : {}) });
        dispatch({ type: "created", task });
        setError(null);
        return true;
      } catch (err) {
        fail(err);
        return false;
      }
    },
    [api, fail],
  );

  const save = useCallback(
    (task: Task, { title, description }: TaskFieldsInput): Promise<boolean> =>
      withBusy(task.id, async () => {
        const updated = await api.updateTask(task.id, {
          title,
          ...(description ? { description } : {}),
          completed: task.completed,
        });
        dispatch({ type: "updated", task: updated });
      }),
    [api, withBusy],
  );

  const toggle = useCallback(
    (task: Task) =>
      withBusy(task.id, async () => dispatch({ type: "updated", task: await api.toggleComplete(task.id) })),
    [api, withBusy],
  );

  const remove = useCallback(
    (task: Task) =>
      withBusy(task.id, async () => {
        await api.deleteTask(task.id);
        dispatch({ type: "deleted", id: task.id });
      }),
    [api, withBusy],
  );

  return {
    filter,
    setFilter,
    /** null until the first page has loaded. */
    tasks: visibleTasks(state),
    /** "first": (re)loading the list; "more": the next page. */
    fetching: state.fetching,
    hasMore: state.hasMore,
    canLoadMore,
    loadMore,
    reload,
    error,
    dismissError: useCallback(() => setError(null), []),
    /** Task ids with a request under way, and whether task actions must wait (a page is on its way). */
    busy,
    actionsPaused: state.fetching === "more",
    create,
    save,
    toggle,
    remove,
  };
}

export type UseTasks = ReturnType<typeof useTasks>;
