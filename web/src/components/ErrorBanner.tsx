"use client";

/** What went wrong (the edge's problem+json `detail`), with Retry and Dismiss. */
export default function ErrorBanner({
  message,
  onRetry,
  onDismiss,
}: {
  message: string;
  onRetry: () => void;
  onDismiss: () => void;
}) {
  return (
    <div className="error" role="alert">
      <span>{message}</span>
      <span className="error-actions">
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          Dismiss
        </button>
      </span>
    </div>
  );
}
