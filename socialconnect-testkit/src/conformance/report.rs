//! The suite's result: one line per case.

use std::fmt;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaseOutcome {
    /// Every check of the case held.
    Passed,
    /// The case does not apply to this platform (the reason says why), e.g. refresh for tokens
    /// that never expire.
    Skipped(String),
    /// A check failed, the operation panicked, or the case hung; the message says which.
    Failed(String),
}

/// One case and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaseResult {
    /// The case, e.g. `fault_matrix::write::timeout::is_maybe_sent`.
    pub name: String,
    /// How it ended.
    pub outcome: CaseOutcome,
}

/// Every case a suite ran, in order: the conformance suite for one platform, or the store
/// contract for one backend.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// What ran against what, e.g. `conformance of facebook`.
    pub title: String,
    /// The cases.
    pub cases: Vec<CaseResult>,
}

impl Report {
    pub(crate) fn new(title: String) -> Self {
        Self {
            title,
            cases: Vec::new(),
        }
    }

    /// How many cases ran (skipped ones included).
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// The cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Passed))
    }

    /// The cases that were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, CaseOutcome::Skipped(_)))
    }

    /// The cases that failed.
    pub fn failures(&self) -> Vec<&CaseResult> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, CaseOutcome::Failed(_)))
            .collect()
    }

    fn count(&self, f: impl Fn(&CaseOutcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }

    /// Panics with the whole report when any case failed.
    #[track_caller]
    pub fn assert_passed(&self) {
        if !self.failures().is_empty() {
            panic!("{self}");
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} cases, {} passed, {} skipped, {} failed",
            self.title,
            self.case_count(),
            self.passed(),
            self.skipped(),
            self.failures().len()
        )?;
        for case in &self.cases {
            match &case.outcome {
                CaseOutcome::Passed => writeln!(f, "  ok    {}", case.name)?,
                CaseOutcome::Skipped(why) => writeln!(f, "  skip  {} ({why})", case.name)?,
                CaseOutcome::Failed(why) => writeln!(f, "  FAIL  {}: {why}", case.name)?,
            }
        }
        Ok(())
    }
}
