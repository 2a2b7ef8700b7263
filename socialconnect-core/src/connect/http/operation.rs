//! Operation-name patterns, shared by the rate windows and the daily budgets: the empty pattern
//! covers every operation, a pattern ending in `.` every operation it prefixes (`video.` →
//! `video.list`, `video.query`), any other pattern only itself.

/// Whether `pattern` covers `operation`.
pub(crate) fn covers(pattern: &str, operation: &str) -> bool {
    if pattern.is_empty() {
        true
    } else if pattern.ends_with('.') {
        operation.starts_with(pattern)
    } else {
        operation == pattern
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn a_trailing_dot_is_a_prefix_and_anything_else_is_exact() {
        assert!(covers("video.", "video.list"));
        assert!(!covers("video.", "videos.list"));
        assert!(covers("post.init", "post.init"));
        assert!(!covers("post.init", "post.init.photo"));
        assert!(covers("", "anything.at_all"));
    }
}
