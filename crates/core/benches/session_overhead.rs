//! Benchmark: a request through a hub session vs. a bare reqwest client (filled below).
fn main() {}
