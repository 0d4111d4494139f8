//! The list's JSON answer, written straight from the reply's bytes
//! ([`crate::upstream::ListReply`]) into one buffer sized up front: the
//! same bytes serde_json writes for a `Vec<TaskView>` (same key order, same
//! escapes), without a `TaskView` per task, a `String` per field, or
//! serde's escaping of the constant keys.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::upstream::ListTask;

/// Bytes of a task's JSON besides its text: keys, punctuation, the id
/// (at most 20 digits and a sign), `false` and `null`.
const PER_TASK: usize = 128;

/// `[{"id":…,"user_id":…,…},…]` for `tasks`, whose text fields are UTF-8
/// (as [`crate::upstream::ListReply`] guarantees).
pub fn tasks(tasks: &[ListTask]) -> Vec<u8> {
    let text: usize = tasks
        .iter()
        .map(|t| {
            t.user_id.len()
                + t.title.len()
                + t.description.as_ref().map_or(0, |d| d.len())
                + t.created_at.len()
                + t.updated_at.len()
        })
        .sum();
    let mut out = Vec::with_capacity(2 + text + tasks.len() * PER_TASK);
    out.push(b'[');
    let mut digits = itoa::Buffer::new();
    for (i, task) in tasks.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"{\"id\":" } else { b",{\"id\":" });
        out.extend_from_slice(digits.format(task.id).as_bytes());
        out.extend_from_slice(b",\"user_id\":");
        string(&mut out, &task.user_id);
        out.extend_from_slice(b",\"title\":");
        string(&mut out, &task.title);
        out.extend_from_slice(b",\"description\":");
        match &task.description {
            Some(description) => string(&mut out, description),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(if task.completed {
            b",\"completed\":true,\"created_at\":"
        } else {
            b",\"completed\":false,\"created_at\":"
        });
        string(&mut out, &task.created_at);
        out.extend_from_slice(b",\"updated_at\":");
        string(&mut out, &task.updated_at);
        out.push(b'}');
    }
    out.push(b']');
    out
}

/// `body` as a 200 `application/json` answer, as axum's `Json` gives it.
pub fn response(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `text` as a JSON string, escaped as serde_json escapes: `"` and `\`,
/// the short forms `\b \t \n \f \r`, other control characters as `\u00xx`;
/// everything else (UTF-8 included) as it is.
fn string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    if !needs_escape(text) {
        out.extend_from_slice(text);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &byte) in text.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&text[start..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
    out.push(b'"');
}

/// Whether any byte of `text` is escaped: one pass without early exit, so
/// the compiler checks many bytes at a time.
fn needs_escape(text: &[u8]) -> bool {
    text.iter().fold(false, |found, &byte| {
        found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::routes::tasks::TaskView;

    fn task(id: i64, title: &str, description: Option<&str>, completed: bool) -> ListTask {
        ListTask {
            id,
            user_id: Bytes::from(format!("user-{id}")),
            title: Bytes::from(title.to_owned()),
            description: description.map(|d| Bytes::from(d.to_owned())),
            completed,
            created_at: Bytes::from_static(b"2026-11-26T20:00:00.123456Z"),
            updated_at: Bytes::from_static(b"2026-11-26T20:00:01Z"),
        }
    }

    fn view(task: &ListTask) -> TaskView {
        let text = |b: &Bytes| String::from_utf8(b.to_vec()).expect("utf-8");
        TaskView {
            id: task.id,
            user_id: text(&task.user_id),
            title: text(&task.title),
            description: task.description.as_ref().map(text),
            completed: task.completed,
            created_at: text(&task.created_at),
            updated_at: text(&task.updated_at),
        }
    }

    #[test]
    fn the_same_bytes_as_serde_json() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let tasks = vec![
            task(0, "plain", None, false),
            task(i64::MAX, "quote \" backslash \\ slash /", Some(""), true),
            task(i64::MIN, &every_ascii, Some(&every_ascii), false),
            task(
                -1,
                "é 漢字 😀 \u{2028}\u{2029}",
                Some("tab\there\r\nnew line"),
                true,
            ),
            task(42, "", Some("\u{0}\u{1f}\u{7f}"), false),
        ];
        let views: Vec<TaskView> = tasks.iter().map(view).collect();
        let expected = serde_json::to_vec(&views).expect("json");
        assert_eq!(
            String::from_utf8(super::tasks(&tasks)).expect("utf-8"),
            String::from_utf8(expected).expect("utf-8")
        );
        assert_eq!(super::tasks(&[]), b"[]");
        assert_eq!(
            super::tasks(&tasks[..1]),
            serde_json::to_vec(&views[..1]).expect("json")
        );
    }

    #[test]
    fn the_buffer_is_sized_up_front() {
        let tasks: Vec<ListTask> = (0..20)
            .map(|i| {
                task(
                    i64::MIN + i,
                    "a title of some length",
                    Some("and a description"),
                    true,
                )
            })
            .collect();
        let json = super::tasks(&tasks);
        let exact = 2 + tasks
            .iter()
            .map(|t| serde_json::to_vec(&view(t)).expect("json").len() + 1)
            .sum::<usize>()
            - 1;
        assert_eq!(json.len(), exact);
        let estimate = 2 + tasks
            .iter()
            .map(|t| {
                t.user_id.len()
                    + t.title.len()
                    + t.description.as_ref().map_or(0, |d| d.len())
                    + t.created_at.len()
                    + t.updated_at.len()
                    + PER_TASK
            })
            .sum::<usize>();
        assert!(json.len() <= estimate, "{} > {estimate}", json.len());
    }
}
