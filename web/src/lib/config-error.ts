/** A setting the server cannot start with; the message says which and why. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
