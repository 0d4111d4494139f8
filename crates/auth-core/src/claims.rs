//! The verified contents of a token that callers may rely on.

use crate::UserId;

/// What a verified token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The token's `sub`: the Better Auth user id.
    pub user_id: UserId,
    /// The user's e-mail address, when the token carries one as a string.
    pub email: Option<String>,
    /// The user's display name, when the token carries one as a string.
    pub name: Option<String>,
    /// The token's `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// The token's `sid`: the Better Auth session it was issued for.
    pub session_id: Option<String>,
}
