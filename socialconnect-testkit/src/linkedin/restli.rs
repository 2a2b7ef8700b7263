//! Rest.li 2.0 query syntax, read strictly: `List(a,b)`, records `(key:value,…)`, and leaves in
//! which the reserved characters `( ) , : '` appear only percent-encoded. A client that forgets
//! to encode a URN inside a `List(...)`, or sends a bracket too few, gets a 400 from the
//! simulator rather than an answer to a query it did not mean.

/// A parsed Rest.li value; leaves are percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RestLi {
    /// A scalar (a URN, a number, an enum name), decoded.
    Leaf(String),
    /// `List(…)`.
    List(Vec<RestLi>),
    /// `(key:value,…)`, keys in order.
    Record(Vec<(String, RestLi)>),
}

impl RestLi {
    /// The leaf's text.
    pub(crate) fn leaf(&self) -> Option<&str> {
        match self {
            Self::Leaf(s) => Some(s),
            _ => None,
        }
    }

    /// A record's field.
    pub(crate) fn field(&self, key: &str) -> Option<&RestLi> {
        match self {
            Self::Record(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses one query value as it came on the wire (still percent-encoded).
pub(crate) fn parse(raw: &str) -> Result<RestLi, String> {
    let mut p = Parser {
        s: raw.as_bytes(),
        at: 0,
    };
    let value = p.value()?;
    if p.at != p.s.len() {
        return Err(format!("unexpected `{}` at offset {}", p.rest(), p.at));
    }
    Ok(value)
}

/// The raw query string split into `(decoded name, raw value)` pairs: Rest.li values are
/// parsed before they are decoded, so the value keeps its escapes.
pub(crate) fn raw_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                percent_decode(k).unwrap_or_else(|| k.to_owned()),
                v.to_owned(),
            ),
            None => (
                percent_decode(p).unwrap_or_else(|| p.to_owned()),
                String::new(),
            ),
        })
        .collect()
}

/// Decodes `%XX` escapes (a `+` stays a `+`); `None` on a broken escape or bytes that are not
/// UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.at..])
            .chars()
            .take(20)
            .collect()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "expected `{}` at offset {}, found `{}`",
                char::from(b),
                self.at,
                self.rest()
            ))
        }
    }

    fn value(&mut self) -> Result<RestLi, String> {
        if self.s[self.at..].starts_with(b"List(") {
            self.at += "List(".len();
            let mut items = Vec::new();
            if self.peek() != Some(b')') {
                loop {
                    items.push(self.value()?);
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    } else {
                        break;
                    }
                }
            }
            self.eat(b')')?;
            return Ok(RestLi::List(items));
        }
        if self.peek() == Some(b'(') {
            self.at += 1;
            let mut fields = Vec::new();
            if self.peek() != Some(b')') {
                loop {
                    let key = self.leaf()?;
                    if key.is_empty() {
                        return Err(format!("empty record key at offset {}", self.at));
                    }
                    self.eat(b':')?;
                    fields.push((key, self.value()?));
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    } else {
                        break;
                    }
                }
            }
            self.eat(b')')?;
            return Ok(RestLi::Record(fields));
        }
        let leaf = self.leaf()?;
        if leaf.is_empty() {
            return Err(format!("empty value at offset {}", self.at));
        }
        Ok(RestLi::Leaf(leaf))
    }

    /// Up to the next reserved character; `''` is the empty string.
    fn leaf(&mut self) -> Result<String, String> {
        if self.s[self.at..].starts_with(b"''") {
            self.at += 2;
            return Ok(String::new());
        }
        let start = self.at;
        while let Some(b) = self.peek() {
            if matches!(b, b'(' | b')' | b',' | b':') {
                break;
            }
            if b == b'\'' {
                return Err(format!("a bare `'` at offset {}", self.at));
            }
            self.at += 1;
        }
        let raw = std::str::from_utf8(&self.s[start..self.at]).map_err(|e| e.to_string())?;
        percent_decode(raw).ok_or_else(|| format!("a broken escape in `{raw}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(s: &str) -> RestLi {
        RestLi::Leaf(s.to_owned())
    }

    #[test]
    fn lists_records_and_encoded_leaves() {
        assert_eq!(
            parse("List(urn%3Ali%3Ashare%3A1,urn%3Ali%3AugcPost%3A2)").unwrap(),
            RestLi::List(vec![leaf("urn:li:share:1"), leaf("urn:li:ugcPost:2")])
        );
        let t = parse("(timeRange:(start:1,end:2),timeGranularityType:DAY)").unwrap();
        assert_eq!(t.field("timeGranularityType"), Some(&leaf("DAY")));
        assert_eq!(
            t.field("timeRange").and_then(|r| r.field("end")),
            Some(&leaf("2"))
        );
        assert_eq!(parse("List()").unwrap(), RestLi::List(vec![]));
        assert_eq!(
            parse("urn%3Ali%3Aorganization%3A7").unwrap(),
            leaf("urn:li:organization:7")
        );
    }

    #[test]
    fn unencoded_or_unbalanced_values_are_refused() {
        for bad in [
            "List(urn:li:share:1)",
            "urn:li:organization:1",
            "(timeRange:(start:1,end:2)",
            "(timeRange:(start:1,end:2)))",
            "List(a,,b)",
            "(:1)",
            "a'b",
            "%zz",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn raw_pairs_keep_the_escapes() {
        let pairs = raw_pairs(Some("q=x&shares=List(urn%3Ali%3Ashare%3A1)&flag"));
        assert_eq!(pairs[1].1, "List(urn%3Ali%3Ashare%3A1)");
        assert_eq!(pairs[2], ("flag".to_owned(), String::new()));
    }
}
