/**
 * Client for the Rust edge's Todo API.
 *
 * - Tokens come from a `TokenSource` (in the browser: Better Auth's
 *   `authClient.token()`), cached until shortly before they expire.
 * - Every request carries `Authorization: Bearer <jwt>`.
 * - A 401 from the edge drops the cached token (if it is still the refused one)
 *   and retries once with a fresh one; concurrent 401s share one refetch.
 * - Failures surface as `ApiError(status, detail)`; `status` 0 = network failure.
 */

export type TaskStatusFilter = "all" | "pending" | "completed";

export interface Task {
  id: number;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

/** Tasks per page on the Todo page: the edge's default `limit`. */
export const PAGE_SIZE = 100;

/** One page of tasks, and whether more follow it. */
export interface TaskPage {
  tasks: Task[];
  hasMore: boolean;
}

export interface NewTask {
  title: string;
  description?: string;
}

export interface TaskUpdate {
  title: string;
  /** Omitted = cleared (PUT replaces the task: no description means none). */
  description?: string;
  /** Omitted = unchanged. */
  completed?: boolean;
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    /** Human-readable explanation (problem+json `detail`, else a fallback). */
    readonly detail: string,
    readonly title?: string,
    readonly type?: string,
  ) {
    super(status ? `${status}${title ? " " + title : ""}: ${detail}` : detail);
  }

  /** The session itself is gone: the user has to sign in again. */
  get isSessionExpired(): boolean {
    return this.status === 401 && this.type === SESSION_EXPIRED_TYPE;
  }
}

/** `type` of the ApiError raised when no token can be had (no/expired session). */
export const SESSION_EXPIRED_TYPE = "urn:todo:session-expired";

export function sessionExpiredError(detail = "Your session has expired. Please sign in again.") {
  return new ApiError(401, detail, "Unauthorized", SESSION_EXPIRED_TYPE);
}

/** Returns a fresh JWT. Throws ApiError (use `sessionExpiredError()` when there is no session). */
export type TokenSource = () => Promise<string>;

export interface JwtTimes {
  exp?: number;
  iat?: number;
}

function base64UrlDecode(segment: string): string {
  const b64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Reads `exp` / `iat` from a JWT payload without verifying it (the edge verifies). */
export function decodeJwtTimes(token: string): JwtTimes | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(base64UrlDecode(parts[1]!)) as Record<string, unknown>;
    const out: JwtTimes = {};
    if (typeof payload.exp === "number") out.exp = payload.exp;
    if (typeof payload.iat === "number") out.iat = payload.iat;
    return out;
  } catch {
    return null;
  }
}

export interface TokenCacheOptions {
  /** Refresh this long before the token expires. Default 60 s. */
  refreshMarginMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Caches one token until `refreshMarginMs` before its expiry. The expiry is
 * computed from the token's own lifetime (`exp - iat`) measured from when it
 * was received, so a skewed browser clock does not matter; without `iat` the
 * absolute `exp` is used; a token without `exp` is not cached.
 * Concurrent callers share one in-flight fetch.
 */
export class TokenCache {
  private token: string | null = null;
  private refreshAt = 0;
  private inflight: Promise<string> | null = null;
  private readonly margin: number;
  private readonly now: () => number;
  private generation = 0;

  constructor(
    private readonly source: TokenSource,
    options: TokenCacheOptions = {},
  ) {
    this.margin = options.refreshMarginMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<string> {
    if (this.token && this.now() < this.refreshAt) return this.token;
    if (!this.inflight) {
      const generation = this.generation;
      const pending: Promise<string> = this.source()
        .then((token) => {
          if (generation === this.generation) this.store(token);
          return token;
        })
        .finally(() => {
          if (this.inflight === pending) this.inflight = null;
        });
      this.inflight = pending;
    }
    return this.inflight;
  }

  /**
   * Forget a token.
   *
   * - `invalidate(token)`: the edge refused `token` (401). The cache is
   *   dropped only if it still holds that very token; if another request has
   *   already replaced it, or a refetch is under way, that newer token is kept,
   *   so several requests refused at once share one refetch.
   * - `invalidate()`: forget everything, including a fetch under way whose
   *   result will not be stored (sign-out).
   */
  invalidate(token?: string): void {
    if (token !== undefined) {
      if (this.token === token) {
        this.token = null;
        this.refreshAt = 0;
      }
      return;
    }
    this.token = null;
    this.refreshAt = 0;
    this.inflight = null;
    this.generation++;
  }

  private store(token: string) {
    const received = this.now();
    const times = decodeJwtTimes(token);
    let expiresAt: number | null = null;
    if (times?.exp !== undefined && times.iat !== undefined && times.exp > times.iat) {
      expiresAt = received + (times.exp - times.iat) * 1000;
    } else if (times?.exp !== undefined) {
      expiresAt = times.exp * 1000;
    }
    if (expiresAt === null) {
      this.token = null;
      this.refreshAt = 0;
      return;
    }
    // Never refresh earlier than half the remaining lifetime for very short tokens.
    const lifetime = expiresAt - received;
    const margin = Math.min(this.margin, Math.max(0, lifetime / 2));
    this.token = token;
    this.refreshAt = expiresAt - margin;
  }
}

export interface TodoApiOptions {
  /** Edge base URL, e.g. http://localhost:8080. */
  baseUrl: string;
  /** The signed-in user's id (the JWT's `sub`). */
  userId: string;
  tokens: TokenCache;
  fetch?: typeof fetch;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export class TodoApi {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TodoApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  private tasksPath(suffix = ""): string {
    return `/api/${encodeURIComponent(this.options.userId)}/tasks${suffix}`;
  }

  /**
   * One page of the user's tasks in creation order, starting at `offset`.
   * Asks the edge for one task more than `limit` (`?limit=&offset=`) to tell
   * whether another page follows; `limit` is 1 to 999 (the edge allows 1000).
   */
  async listPage(status: TaskStatusFilter = "all", offset = 0, limit = PAGE_SIZE): Promise<TaskPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 999) {
      throw new RangeError(`page size must be an integer from 1 to 999, got ${limit}`);
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
    }
    const tasks = await this.request<Task[]>(
      "GET",
      this.tasksPath(`?status=${status}&limit=${limit + 1}&offset=${offset}`),
    );
    if (!Array.isArray(tasks)) throw new ApiError(200, "The Todo API sent a task list that is not a list.");
    return { tasks: tasks.slice(0, limit), hasMore: tasks.length > limit };
  }

  getTask(id: number): Promise<Task> {
    return this.request<Task>("GET", this.tasksPath(`/${id}`));
  }

  createTask(task: NewTask): Promise<Task> {
    return this.request<Task>("POST", this.tasksPath(), task);
  }

  updateTask(id: number, update: TaskUpdate): Promise<Task> {
    return this.request<Task>("PUT", this.tasksPath(`/${id}`), update);
  }

  toggleComplete(id: number): Promise<Task> {
    return this.request<Task>("PATCH", this.tasksPath(`/${id}/complete`));
  }

  async deleteTask(id: number): Promise<void> {
    await this.request<void>("DELETE", this.tasksPath(`/${id}`));
  }

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const token = await this.options.tokens.get();
    let response = await this.send(method, path, body, token);
    if (response.status === 401) {
      // The token may have expired early or been signed with a rotated key:
      // drop it (unless another request already has) and try exactly once
      // more with a freshly issued one.
      this.options.tokens.invalidate(token);
      response = await this.send(method, path, body, await this.options.tokens.get());
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, "The Todo API sent a response that is not valid JSON.");
    }
  }

  private async send(method: Method, path: string, body: unknown, token: string): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json",
      Authorization: `Bearer ${token}`,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(
        0,
        `Could not reach the Todo API at ${this.baseUrl} (${err instanceof Error ? err.message : String(err)}).`,
        "Network error",
      );
    }
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "The request was not understood.",
  401: "You are not signed in, or your sign-in has expired.",
  403: "You are not allowed to access these tasks.",
  404: "That task does not exist (it may have been deleted).",
  413: "The request is too large.",
  415: "The request had the wrong content type.",
  422: "Some of the data is invalid.",
  429: "Too many requests; try again in a moment.",
  500: "The Todo API had an internal error.",
  502: "The Todo API is unavailable (bad gateway).",
  503: "The Todo API is temporarily unavailable.",
  504: "The Todo API timed out.",
};

function detailToString(detail: unknown): string | undefined {
  if (typeof detail === "string" && detail.trim()) return detail;
  // FastAPI-style validation errors: [{loc, msg, type}, …]
  if (Array.isArray(detail)) {
    const msgs = detail
      .map((d) => (d && typeof d === "object" && "msg" in d ? String((d as { msg: unknown }).msg) : null))
      .filter((m): m is string => !!m);
    if (msgs.length) return msgs.join("; ");
  }
  return undefined;
}

/** Maps an error response (ideally RFC 9457 problem+json) to an ApiError. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const fallback = STATUS_TEXT[response.status] ?? `Request failed (HTTP ${response.status}).`;
  let text = "";
  try {
    text = await response.text();
  } catch {
    /* body unreadable: use the fallback */
  }
  const contentType = response.headers.get("content-type") ?? "";
  if (text && (contentType.includes("json") || /^\s*\{/.test(text))) {
    try {
      const problem = JSON.parse(text) as Record<string, unknown>;
      const detail =
        detailToString(problem.detail) ??
        (typeof problem.message === "string" ? problem.message : undefined) ??
        (typeof problem.title === "string" ? problem.title : undefined) ??
        fallback;
      return new ApiError(
        response.status,
        detail,
        typeof problem.title === "string" ? problem.title : response.statusText || undefined,
        typeof problem.type === "string" ? problem.type : undefined,
      );
    } catch {
      /* not JSON after all */
    }
  }
  return new ApiError(response.status, fallback, response.statusText || undefined);
}
