import type { InputHTMLAttributes, ReactNode } from "react";

type Props = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  /** Shown under the input (for example a rule the value must follow). */
  children?: ReactNode;
};

/** A form input inside its label, so the label names it for screen readers and clicks. */
export default function LabeledInput({ label, children, ...input }: Props) {
  return (
    <label>
      {label}
      <input {...input} />
      {children}
    </label>
  );
}
