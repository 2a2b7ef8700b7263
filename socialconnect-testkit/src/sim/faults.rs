//! Faults a test queues on a simulator, each used once.

use std::collections::VecDeque;

/// Faults queued in order, each matched by a needle the request path must contain (`""`
/// matches every request) and used once.
#[derive(Debug, Clone)]
pub struct FaultQueue<F> {
    queue: VecDeque<(String, F)>,
}

impl<F> Default for FaultQueue<F> {
    fn default() -> Self {
        Self {
            queue: VecDeque::new(),
        }
    }
}

impl<F: Clone> FaultQueue<F> {
    /// Queues `fault` for `times` requests whose path contains `needle`.
    pub fn push(&mut self, needle: &str, fault: F, times: usize) {
        self.queue
            .extend(std::iter::repeat_n((needle.to_owned(), fault), times));
    }

    /// Takes the first queued fault whose needle occurs in `path`.
    pub fn take(&mut self, path: &str) -> Option<F> {
        let at = self
            .queue
            .iter()
            .position(|(needle, _)| path.contains(needle.as_str()))?;
        self.queue.remove(at).map(|(_, f)| f)
    }

    /// How many faults are still queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no fault is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_match_by_path_and_are_used_once() {
        let mut q = FaultQueue::default();
        q.push("/feed", 'a', 1);
        q.push("", 'b', 2);
        assert_eq!(q.take("/v1/me"), Some('b'));
        assert_eq!(q.take("/v1/1/feed"), Some('a'));
        assert_eq!(q.take("/v1/1/feed"), Some('b'));
        assert!(q.is_empty());
        assert_eq!(q.take("/v1/me"), None);
    }
}
