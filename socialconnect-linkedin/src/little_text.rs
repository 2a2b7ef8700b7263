//! LinkedIn's "little text": the format of a post's `commentary`. The characters
//! `\ | { } @ [ ] ( ) < > # * _ ~` are syntax and must be escaped with a backslash in plain
//! text; a mention is written `@[Name](urn:li:organization:N)` and must stay unescaped.
//!
//! Build commentary with [`LittleText`]: text pieces are escaped, mentions are written as
//! syntax, so user text can never forge a mention or break the post.

use crate::urn::Urn;

const RESERVED: &[char] = &[
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

/// `text` with every little-text syntax character escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The plain text an escaped piece stands for (the inverse of [`escape`]).
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(next) = chars.next()
        {
            out.push(next);
            continue;
        }
        out.push(c);
    }
    out
}

/// Post commentary assembled from plain text and mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LittleText {
    out: String,
}

impl LittleText {
    /// Empty commentary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends plain text, escaped.
    pub fn text(mut self, text: &str) -> Self {
        self.out.push_str(&escape(text));
        self
    }

    /// Appends a mention of `urn` shown as `name` (the name escaped, the syntax not).
    pub fn mention(mut self, name: &str, urn: &Urn) -> Self {
        self.out.push_str("@[");
        self.out.push_str(&escape(name));
        self.out.push_str("](");
        self.out.push_str(urn.as_str());
        self.out.push(')');
        self
    }

    /// The commentary as LinkedIn takes it.
    pub fn as_str(&self) -> &str {
        &self.out
    }
}

impl From<&str> for LittleText {
    fn from(text: &str) -> Self {
        LittleText::new().text(text)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reserved_characters_are_escaped_and_mentions_kept() {
        let org = Urn::organization("2414183").unwrap();
        let t = LittleText::new()
            .text("Hello (world) #launch @team ")
            .mention("Acme_Corp", &org)
            .text(" 50% off*");
        assert_eq!(
            t.as_str(),
            r"Hello \(world\) \#launch \@team @[Acme\_Corp](urn:li:organization:2414183) 50% off\*"
        );
    }

    proptest! {
        #[test]
        fn escaping_round_trips_and_leaves_no_bare_syntax(text in any::<String>()) {
            let escaped = escape(&text);
            prop_assert_eq!(unescape(&escaped), text);
            // Every reserved character in the output is preceded by an escaping backslash.
            let chars: Vec<char> = escaped.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                if chars[i] == '\\' {
                    prop_assert!(i + 1 < chars.len() && RESERVED.contains(&chars[i + 1]));
                    i += 2;
                } else {
                    prop_assert!(!RESERVED.contains(&chars[i]));
                    i += 1;
                }
            }
        }
    }
}
