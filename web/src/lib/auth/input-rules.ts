/**
 * The limits on what a person types into the sign-up form, shared by the form
 * (client) and the server's checks (password-policy.ts, user-fields.ts).
 * Nothing here may import server code: the form bundles this file.
 */

/** OWASP ASVS 4.0.3 V2.1.1 and PCI DSS 4.0 8.3.6 ask for at least 12. */
export const PASSWORD_MIN_LENGTH = 12;
/** Better Auth's default maximum; scrypt's cost grows with the input. */
export const PASSWORD_MAX_LENGTH = 128;
/** What the sign-up form says under the password field. */
export const PASSWORD_RULE_TEXT = `At least ${PASSWORD_MIN_LENGTH} characters, not only spaces, and not a common password.`;

/** The longest name, in UTF-16 units (as the browser's `maxLength` counts). */
export const NAME_MAX_LENGTH = 100;
