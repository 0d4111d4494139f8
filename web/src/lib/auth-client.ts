"use client";

import { createAuthClient } from "better-auth/react";
import { jwtClient } from "better-auth/client/plugins";
import { ApiError, sessionExpiredError, type TokenSource } from "./api-client";

// Same origin as the page: Better Auth lives at /api/auth on the web app.
export const authClient = createAuthClient({ plugins: [jwtClient()] });

/** Fetches a fresh JWT for the signed-in user from Better Auth (`GET /api/auth/token`). */
export const betterAuthTokenSource: TokenSource = async () => {
  let result: Awaited<ReturnType<typeof authClient.token>>;
  try {
    result = await authClient.token();
  } catch (err) {
    throw new ApiError(
      0,
      `Could not reach the sign-in service (${err instanceof Error ? err.message : String(err)}).`,
      "Network error",
    );
  }
  const { data, error } = result;
  if (error) {
    if (error.status === 401 || error.status === 403) throw sessionExpiredError();
    throw new ApiError(
      error.status ?? 0,
      error.message || `Could not get an access token (HTTP ${error.status}).`,
      error.statusText,
    );
  }
  if (!data?.token) throw sessionExpiredError();
  return data.token;
};
