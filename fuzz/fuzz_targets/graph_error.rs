//! Graph API error envelopes (`{"error":{"code":…}}`), from any response body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = socialconnect_meta::error::graph_errors().parse(data);
});
