/**
 * The password rules, enforced on the server (a Better Auth plugin's before
 * hook on every endpoint that sets a password) and stated in the sign-up form:
 * 12 to 128 characters, not only whitespace, and not a common password.
 *
 * The common passwords are Django's list (20,000 passwords seen most often in
 * breaches, compiled by Royce Williams, lower-cased): `common-passwords.json`
 * keeps the 190 of them that are 12 to 128 characters long, the only ones
 * the length rule lets through. The check ignores case and surrounding spaces.
 */
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import common from "./common-passwords.json";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./input-rules";

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH };

const COMMON_PASSWORDS: ReadonlySet<string> = new Set(common.passwords);

export interface PasswordProblem {
  code: "PASSWORD_TOO_SHORT" | "PASSWORD_TOO_LONG" | "PASSWORD_ONLY_WHITESPACE" | "PASSWORD_TOO_COMMON";
  message: string;
}

/** Why `password` is not acceptable, or null when it is. Lengths count UTF-16 units, as the form's `minLength` does. */
export function passwordProblem(password: string): PasswordProblem | null {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return { code: "PASSWORD_TOO_SHORT", message: `The password must be at least ${PASSWORD_MIN_LENGTH} characters.` };
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return { code: "PASSWORD_TOO_LONG", message: `The password must be at most ${PASSWORD_MAX_LENGTH} characters.` };
  }
  if (password.trim() === "") {
    return { code: "PASSWORD_ONLY_WHITESPACE", message: "The password cannot be only spaces." };
  }
  const folded = password.toLowerCase();
  if (COMMON_PASSWORDS.has(folded) || COMMON_PASSWORDS.has(folded.trim())) {
    return { code: "PASSWORD_TOO_COMMON", message: "This password is too common. Choose another one." };
  }
  return null;
}

/** The body field holding the new password, per endpoint (those disabled in this app included: defence in depth). */
const PASSWORD_FIELDS: Record<string, string> = {
  "/sign-up/email": "password",
  "/change-password": "newPassword",
  "/reset-password": "newPassword",
  "/set-password": "newPassword",
};

/** Refuses a new password that breaks the rules with 400 `{code, message}`, before Better Auth hashes it. */
export function passwordPolicy() {
  return {
    id: "todo-password-policy",
    hooks: {
      before: [
        {
          matcher: (ctx) => ctx.path !== undefined && Object.hasOwn(PASSWORD_FIELDS, ctx.path),
          handler: createAuthMiddleware(async (ctx) => {
            const field = PASSWORD_FIELDS[ctx.path]!;
            const password: unknown = (ctx.body as Record<string, unknown> | undefined)?.[field];
            // A missing or non-string password is left to Better Auth's own validation.
            if (typeof password !== "string") return;
            const problem = passwordProblem(password);
            if (problem) throw APIError.from("BAD_REQUEST", problem);
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
