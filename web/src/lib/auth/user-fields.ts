/**
 * Bounds on what a user may store about themselves: the name is trimmed and
 * 1 to 100 characters without control characters (the form's limit, now the
 * server's), and no profile image (the app shows none; Better Auth would
 * store any string). Checked in a Better Auth before hook on sign-up and on
 * update-user, before anything is hashed or stored.
 */
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { NAME_MAX_LENGTH } from "./input-rules";

// C0/C1 controls, and the bidirectional overrides that make text display out of order.
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export interface NameCheck {
  name?: string;
  problem?: { code: "NAME_REQUIRED" | "NAME_TOO_LONG" | "NAME_INVALID"; message: string };
}

/** The name to store (trimmed), or why there is none. */
export function checkName(raw: unknown): NameCheck {
  if (typeof raw !== "string") return { problem: { code: "NAME_INVALID", message: "The name must be text." } };
  const name = raw.trim();
  if (!name) return { problem: { code: "NAME_REQUIRED", message: "Enter your name." } };
  if (name.length > NAME_MAX_LENGTH) {
    return { problem: { code: "NAME_TOO_LONG", message: `The name must be at most ${NAME_MAX_LENGTH} characters.` } };
  }
  if (FORBIDDEN_IN_NAME.test(name)) {
    return { problem: { code: "NAME_INVALID", message: "The name contains characters that are not allowed." } };
  }
  return { name };
}

/** Sign-up must carry a name; update-user may leave it out. */
const NAME_REQUIRED: Record<string, boolean> = { "/sign-up/email": true, "/update-user": false };

export function userFields() {
  return {
    id: "todo-user-fields",
    hooks: {
      before: [
        {
          matcher: (ctx) => ctx.path !== undefined && Object.hasOwn(NAME_REQUIRED, ctx.path),
          handler: createAuthMiddleware(async (ctx) => {
            const body = ctx.body as Record<string, unknown> | undefined;
            if (!body || typeof body !== "object") return; // Better Auth refuses it itself
            if (body.image !== undefined && body.image !== null) {
              throw APIError.from("BAD_REQUEST", {
                code: "IMAGE_NOT_SUPPORTED",
                message: "This app stores no profile image.",
              });
            }
            if (body.name === undefined && !NAME_REQUIRED[ctx.path]) return;
            const { name, problem } = checkName(body.name);
            if (problem) throw APIError.from("BAD_REQUEST", problem);
            return { context: { body: { ...body, name } } };
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
