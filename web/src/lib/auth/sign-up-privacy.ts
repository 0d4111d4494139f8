/**
 * Sign-up with an e-mail address that already has an account: a generic
 * answer, after the same password hashing a new account costs.
 *
 * Better Auth answers an existing address with `USER_ALREADY_EXISTS_…`
 * ("User already exists. Use another email.") and without hashing the
 * password, so it was told apart by its message and by its speed (about
 * 12 ms against 108 ms). Better Auth hides it fully only when sign-up does
 * not sign in (e-mail verification, or `autoSignIn: false`); this app signs
 * in at once and sends no e-mail, so a sign-up that does not end signed in
 * still says the address is taken. That trade-off is kept (README,
 * "Security"); what is hidden is the wording and the timing.
 */
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";

const EXISTING_USER_CODES = new Set(["USER_ALREADY_EXISTS", "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"]);

/** What a sign-up that cannot create the account answers (422). */
export const SIGN_UP_FAILED = {
  code: "SIGN_UP_FAILED",
  message: "Could not create an account with these details. If you already have an account, sign in instead.",
} as const;

export function signUpPrivacy() {
  return {
    id: "todo-sign-up-privacy",
    hooks: {
      after: [
        {
          matcher: (ctx) => ctx.path === "/sign-up/email",
          handler: createAuthMiddleware(async (ctx) => {
            const returned = ctx.context.returned;
            if (!isAPIError(returned) || !EXISTING_USER_CODES.has(String(returned.body?.code))) return;
            const password: unknown = (ctx.body as Record<string, unknown> | undefined)?.password;
            // The cost a new account pays (Better Auth's scrypt), so both answers take as long.
            if (typeof password === "string") await ctx.context.password.hash(password);
            throw APIError.from("UNPROCESSABLE_ENTITY", SIGN_UP_FAILED);
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
