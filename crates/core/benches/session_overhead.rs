//! Session overhead benchmark: a placeholder until the hub exists.

fn main() {}
