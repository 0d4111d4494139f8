/** Token lifetime, also the `exp - iat` the backend sees (jwt plugin `expirationTime: "15m"`). */
export const TOKEN_LIFETIME_SECONDS = 15 * 60;
