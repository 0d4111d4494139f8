//! The model: what each user should see, kept in memory, and the random
//! numbers that drive the run.

use std::collections::BTreeMap;

use serde_json::Value;

/// A task as its owner should see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
}

impl Task {
    /// Panics, saying where, unless `seen` (a task from the API) is this
    /// task, with this id, owned by `owner`.
    pub fn assert_is(&self, seen: &Value, id: i64, owner: &str, at: &str) {
        assert_eq!(seen["id"], id, "{at}: id in {seen}");
        assert_eq!(seen["user_id"], owner, "{at}: owner in {seen}");
        assert_eq!(seen["title"], self.title.as_str(), "{at}: title in {seen}");
        assert_eq!(
            seen["description"].as_str(),
            self.description.as_deref(),
            "{at}: description in {seen}"
        );
        assert_eq!(
            seen["completed"], self.completed,
            "{at}: completed in {seen}"
        );
    }
}

/// Every user's tasks, by id (ids grow, so id order is creation order),
/// and the ids that were deleted.
#[derive(Default)]
pub struct Model {
    pub tasks: Vec<BTreeMap<i64, Task>>,
    pub deleted: Vec<i64>,
}

impl Model {
    pub fn new(users: usize) -> Self {
        Self {
            tasks: vec![BTreeMap::new(); users],
            deleted: Vec::new(),
        }
    }

    /// Whose task `id` is, if it exists.
    pub fn owner(&self, id: i64) -> Option<usize> {
        self.tasks.iter().position(|tasks| tasks.contains_key(&id))
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or_default()
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A title or description: letters, digits, spaces, accents, CJK and
    /// emoji, quotes and JSON-ish characters, of 0 to `max` characters.
    pub fn text(&mut self, max: usize) -> String {
        const PARTS: [&str; 16] = [
            "a", "Z", "7", " ", "é", "用", "😀", "\"", "\\", "'", "<", "%20", "{", "\t", "ß", "-",
        ];
        let len = self.below(max + 1);
        (0..len).map(|_| *self.pick(&PARTS)).collect()
    }
}
