"use client";

/** The title and description inputs, shared by the add and edit forms. */
import type { ReactNode } from "react";

/** The edge's limits (it answers 422 beyond them); the inputs stop there. */
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 1000;

export default function TaskFields({
  names,
  title,
  description,
  onTitle,
  onDescription,
  descriptionLabel,
  placeholder,
  autoFocus,
}: {
  names: [title: string, description: string];
  title: string;
  description: string;
  onTitle: (value: string) => void;
  onDescription: (value: string) => void;
  descriptionLabel: ReactNode;
  placeholder?: string;
  autoFocus?: boolean;
}) {
  return (
    <>
      <label>
        Title
        <input
          name={names[0]}
          value={title}
          maxLength={TITLE_MAX}
          placeholder={placeholder}
          autoFocus={autoFocus}
          onChange={(e) => onTitle(e.target.value)}
        />
      </label>
      <label>
        {descriptionLabel}
        <textarea
          name={names[1]}
          value={description}
          maxLength={DESCRIPTION_MAX}
          rows={2}
          onChange={(e) => onDescription(e.target.value)}
        />
      </label>
    </>
  );
}
