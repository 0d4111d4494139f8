"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";
import LabeledInput from "./LabeledInput";
import { NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_RULE_TEXT } from "@/lib/auth/input-rules";

type Mode = "sign-in" | "sign-up";

export default function AuthForm({ mode, notice }: { mode: Mode; notice?: string }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const signUp = mode === "sign-up";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setPending(true);
    try {
      const { error } = signUp
        ? await authClient.signUp.email({ name: name.trim(), email: email.trim(), password })
        : await authClient.signIn.email({ email: email.trim(), password });
      if (error) {
        setError(describeAuthError(error, signUp));
        setPending(false);
        return;
      }
      // Full navigation so the server renders the Todo page with the new session cookie.
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination
      window.location.assign("/");
    } catch (err) {
      setError(`Could not reach the server: ${err instanceof Error ? err.message : String(err)}`);
      setPending(false);
    }
  }

  return (
    <main className="card narrow">
      <h1>{signUp ? "Create your account" : "Sign in"}</h1>
      <p className="muted">
        {signUp ? "Keep your own private list of tasks." : "Welcome back. Sign in to see your tasks."}
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form onSubmit={onSubmit} className="stack">
        {signUp && (
          <LabeledInput
            label="Name"
            name="name"
            autoComplete="name"
            required
            maxLength={NAME_MAX_LENGTH}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        )}
        <LabeledInput
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <LabeledInput
          label="Password"
          name="password"
          type="password"
          autoComplete={signUp ? "new-password" : "current-password"}
          required
          minLength={signUp ? PASSWORD_MIN_LENGTH : undefined}
          maxLength={PASSWORD_MAX_LENGTH}
          aria-describedby={signUp ? "password-rule" : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        >
          {signUp && (
            <span className="hint" id="password-rule">
              {PASSWORD_RULE_TEXT}
            </span>
          )}
        </LabeledInput>
        <button type="submit" className="primary" disabled={pending}>
          {pending ? (signUp ? "Creating account…" : "Signing in…") : signUp ? "Sign up" : "Sign in"}
        </button>
      </form>
      <p className="switch">
        {signUp ? (
          <>
            Already have an account? <Link href="/sign-in">Sign in</Link>
          </>
        ) : (
          <>
            New here? <Link href="/sign-up">Create an account</Link>
          </>
        )}
      </p>
    </main>
  );
}

function describeAuthError(error: { status?: number; message?: string; code?: string }, signUp: boolean): string {
  if (error.code === "INVALID_EMAIL_OR_PASSWORD" || (!signUp && error.status === 401)) {
    return "Wrong email or password.";
  }
  if (error.code === "TOO_MANY_FAILED_SIGN_INS" && error.message) return error.message;
  if (error.status === 429) return "Too many attempts. Wait a moment and try again.";
  return error.message || `Something went wrong (HTTP ${error.status ?? "?"}).`;
}
