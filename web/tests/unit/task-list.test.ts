/**
 * The Todo page's paged task list (src/lib/task-list.ts, run by the useTasks
 * hook): pages from limit/offset, and the user's changes on top of them.
 */
import { describe, expect, it } from "vitest";
import type { Task, TaskPage, TaskStatusFilter } from "@/lib/api-client";
import {
  initialTaskList,
  matchesFilter,
  taskListReducer,
  visibleTasks,
  type TaskListAction,
  type TaskListState,
} from "@/lib/task-list";

function task(id: number, completed = false): Task {
  return {
    id,
    user_id: "u",
    title: `Task ${id}`,
    description: null,
    completed,
    created_at: "2026-11-25T10:00:00Z",
    updated_at: "2026-11-25T10:00:00Z",
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => task(from + i));
const ids = (state: TaskListState) => visibleTasks(state)?.map((t) => t.id) ?? null;

function run(state: TaskListState, ...actions: TaskListAction[]): TaskListState {
  return actions.reduce(taskListReducer, state);
}

function page(generation: number, offset: number, tasks: Task[], hasMore: boolean): TaskListAction {
  return { type: "page", generation, offset, page: { tasks, hasMore } };
}

describe("task list paging", () => {
  it("shows nothing until the first page, then that page; the next page continues at its end", () => {
    let s = initialTaskList();
    expect(visibleTasks(s)).toBeNull();
    expect(s.fetching).toBe("first");
    s = run(s, page(0, 0, range(1, 100), true));
    expect(ids(s)).toEqual(range(1, 100).map((t) => t.id));
    expect(s).toMatchObject({ hasMore: true, fetching: null });

    s = run(s, { type: "fetchMore", generation: 0 });
    expect(s.fetching).toBe("more");
    s = run(s, page(0, 100, range(101, 105), false));
    expect(ids(s)).toEqual(range(1, 105).map((t) => t.id));
    expect(s).toMatchObject({ hasMore: false, fetching: null });
  });

  it("ignores the answer to a load the user has moved on from", () => {
    let s = run(initialTaskList(), page(0, 0, [task(1)], false), { type: "reload", filter: "completed" });
    expect(s).toMatchObject({ filter: "completed", generation: 1, fetching: "first" });
    expect(ids(s)).toEqual([1]); // the old list stays while the new one loads
    s = run(s, page(0, 0, [task(9)], false), { type: "failed", generation: 0 });
    expect(ids(s)).toEqual([1]);
    expect(s.fetching).toBe("first");
    s = run(s, page(1, 0, [task(2, true)], false));
    expect(ids(s)).toEqual([2]);
    expect(s.fetching).toBeNull();
  });

  it("drops a next page that no longer starts where the list ends (a task was deleted meanwhile)", () => {
    let s = run(initialTaskList(), page(0, 0, range(1, 100), true), { type: "fetchMore", generation: 0 });
    s = run(s, { type: "deleted", id: 5 }, page(0, 100, range(101, 105), false));
    expect(ids(s)).toHaveLength(99);
    expect(s).toMatchObject({ hasMore: true, fetching: null }); // "Load more" asks again from offset 99
  });

  it("keeps a task created before the last page is loaded at the end, once, whenever its page comes", () => {
    const s = run(initialTaskList(), page(0, 0, range(1, 100), true), { type: "created", task: task(106) });
    expect(ids(s)?.slice(-2)).toEqual([100, 106]);
    expect(s.loaded).toHaveLength(100); // the next page still starts at 100
    // The page that contains it: no duplicate, and it takes its place in order.
    const withIt = run(s, page(0, 100, [...range(101, 105), task(106)], false));
    expect(ids(withIt)).toEqual(range(1, 106).map((t) => t.id));
    // A last page read before it was created: it stays, at the end.
    const without = run(s, page(0, 100, range(101, 105), false));
    expect(ids(without)).toEqual(range(1, 106).map((t) => t.id));
    // A page that is not the last, without it: it waits in place.
    const between = run(s, page(0, 100, range(101, 102), true));
    expect(ids(between)).toEqual([...range(1, 102).map((t) => t.id), 106]);
    expect(between.loaded).toHaveLength(102);
  });

  it("adds a created task only when it belongs to the filter, and only once a list is shown", () => {
    expect(run(initialTaskList(), { type: "created", task: task(1) }).loaded).toBeNull();
    let s = run(initialTaskList("completed"), page(0, 0, [], false));
    s = run(s, { type: "created", task: task(1) });
    expect(ids(s)).toEqual([]);
  });

  it("removes a task an update moves out of the filter, so the next offset still matches the server", () => {
    let s = run(initialTaskList("pending"), page(0, 0, range(1, 3), true));
    s = run(s, { type: "updated", task: { ...task(2), title: "renamed" } });
    expect(visibleTasks(s)?.map((t) => t.title)).toEqual(["Task 1", "renamed", "Task 3"]);
    s = run(s, { type: "updated", task: task(2, true) });
    expect(ids(s)).toEqual([1, 3]);
    expect(s.loaded).toHaveLength(2);
  });
});

// A model check: random sequences of what the page allows (task actions never
// overlap a page fetch; the hook enforces that) against an in-memory server
// that pages like the edge. After loading every page, the page shows exactly
// the server's list for the filter, in order.
describe("task list against a paging server (random sequences)", () => {
  function rng(seed: number) {
    return () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
  }

  class Server {
    tasks: Task[] = [];
    private nextId = 1;
    constructor(n: number, random: () => number) {
      for (let i = 0; i < n; i++) this.create(random() < 0.3);
    }
    create(completed = false): Task {
      const t = task(this.nextId++, completed);
      this.tasks.push(t);
      return t;
    }
    list(filter: TaskStatusFilter, offset: number, limit: number): TaskPage {
      const all = this.tasks.filter((t) => matchesFilter(t, filter));
      const rows = all.slice(offset, offset + limit + 1);
      return { tasks: rows.slice(0, limit), hasMore: rows.length > limit };
    }
  }

  it("never skips, doubles or reorders a task", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = rng(seed);
      const server = new Server(Math.floor(random() * 40), random);
      const limit = 1 + Math.floor(random() * 7);
      const filter = (["all", "pending", "completed"] as const)[Math.floor(random() * 3)]!;
      const loadPage = (state: TaskListState, offset: number): TaskListState =>
        run(
          state,
          { type: "fetchMore", generation: 0 },
          { type: "page", generation: 0, offset, page: server.list(filter, offset, limit) },
        );
      let s = loadPage(initialTaskList(filter), 0);

      for (let step = 0; step < 60; step++) {
        const shown = visibleTasks(s)!;
        const pick = shown[Math.floor(random() * shown.length)];
        const r = random();
        if (r < 0.3 && s.hasMore) {
          s = loadPage(s, s.loaded!.length);
        } else if (r < 0.5) {
          s = run(s, { type: "created", task: server.create(filter === "completed") });
        } else if (r < 0.7 && pick) {
          server.tasks = server.tasks.filter((t) => t.id !== pick.id);
          s = run(s, { type: "deleted", id: pick.id });
        } else if (pick) {
          const toggled = { ...pick, completed: !pick.completed };
          server.tasks = server.tasks.map((t) => (t.id === pick.id ? toggled : t));
          s = run(s, { type: "updated", task: toggled });
        }
      }
      // Load every remaining page.
      for (let guard = 0; s.hasMore && guard < 100; guard++) s = loadPage(s, s.loaded!.length);
      const expected = server.tasks.filter((t) => matchesFilter(t, filter)).map((t) => t.id);
      expect(ids(s), `seed ${seed}`).toEqual(expected);
    }
  });
});
