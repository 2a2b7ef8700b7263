//! Runnable SocialConnect examples.
//!
//! The offline quickstart (the README's first command) arrives with the Meta connector; until
//! then this package holds no programs.
