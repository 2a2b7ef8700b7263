//! Key-encryption-key providers: wrapping, rotation, the keyring text format and its errors.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use socialconnect_core::keys::{DataKey, KeyId, KeyProvider, WrappedKey};
use socialconnect_core::{Error, ErrorKind};
use socialconnect_store::keys::{KEYRING_ENV, LocalKeyring, MemoryKeyProvider};

fn id(s: &str) -> KeyId {
    KeyId(s.to_owned())
}

/// Deterministic, distinct test key bytes.
fn key_bytes(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7))
}

fn b64(seed: u8) -> String {
    STANDARD.encode(key_bytes(seed))
}

fn two_keys() -> LocalKeyring {
    LocalKeyring::parse(&format!("k1:{}\n*k2:{}", b64(1), b64(2))).unwrap()
}

fn config_message(result: socialconnect_core::Result<LocalKeyring>) -> String {
    match result {
        Ok(ring) => panic!("expected a configuration error, got {ring:?}"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            e.to_string()
        }
    }
}

fn crypto_message<T: std::fmt::Debug>(result: socialconnect_core::Result<T>) -> String {
    match result {
        Ok(v) => panic!("expected a crypto error, got {v:?}"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Crypto, "{e}");
            e.to_string()
        }
    }
}

// --- wrapping -----------------------------------------------------------------------------

#[tokio::test]
async fn round_trip_under_each_provider() {
    let providers: Vec<Box<dyn KeyProvider>> = vec![
        Box::new(two_keys()),
        Box::new(MemoryKeyProvider::new()),
        Box::new(MemoryKeyProvider::generate(&["a", "b"], "b").unwrap()),
        Box::new(LocalKeyring::demo()),
    ];
    for provider in providers {
        let key = DataKey::generate();
        let primary = provider.primary();
        let wrapped = provider.wrap(&primary, &key, b"subject-1").await.unwrap();
        assert_eq!(wrapped.key_id, primary);
        assert_eq!(wrapped.ciphertext.len(), 1 + 12 + 32 + 16);
        let opened = provider.unwrap(&wrapped, b"subject-1").await.unwrap();
        assert_eq!(opened.expose_secret(), key.expose_secret());
    }
}

#[tokio::test]
async fn empty_and_long_contexts_round_trip() {
    let ring = two_keys();
    let key = DataKey::generate();
    for context in [&b""[..], &[0u8; 4096][..]] {
        let wrapped = ring.wrap(&id("k1"), &key, context).await.unwrap();
        let opened = ring.unwrap(&wrapped, context).await.unwrap();
        assert_eq!(opened.expose_secret(), key.expose_secret());
    }
}

#[tokio::test]
async fn wrong_context_fails() {
    let ring = two_keys();
    let wrapped = ring
        .wrap(&ring.primary(), &DataKey::generate(), b"subject-1")
        .await
        .unwrap();
    for context in [&b"subject-2"[..], b"", b"subject-1\0", b"subject-"] {
        let message = crypto_message(ring.unwrap(&wrapped, context).await);
        assert!(
            message.contains("does not open under key `k2`"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn every_tampered_byte_fails() {
    let ring = two_keys();
    let wrapped = ring
        .wrap(&ring.primary(), &DataKey::generate(), b"ctx")
        .await
        .unwrap();
    for i in 0..wrapped.ciphertext.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut tampered = wrapped.clone();
            tampered.ciphertext[i] ^= flip;
            let message = crypto_message(ring.unwrap(&tampered, b"ctx").await);
            assert!(
                message.contains("wrong keyring or tampered data"),
                "byte {i}: {message}"
            );
        }
    }
}

#[tokio::test]
async fn truncated_extended_and_empty_ciphertexts_fail() {
    let ring = two_keys();
    let wrapped = ring
        .wrap(&ring.primary(), &DataKey::generate(), b"ctx")
        .await
        .unwrap();
    let mut variants = vec![Vec::new(), vec![1u8]];
    for len in 0..wrapped.ciphertext.len() {
        variants.push(wrapped.ciphertext[..len].to_vec());
    }
    let mut longer = wrapped.ciphertext.clone();
    longer.push(0);
    variants.push(longer);
    for ciphertext in variants {
        let tampered = WrappedKey {
            key_id: wrapped.key_id.clone(),
            ciphertext,
        };
        crypto_message(ring.unwrap(&tampered, b"ctx").await);
    }
}

#[tokio::test]
async fn relabelled_key_id_fails() {
    // k1 and k2 hold the same key bytes here, so only the id bound into the associated data
    // tells them apart.
    let ring = LocalKeyring::from_keys(
        vec![(id("k1"), key_bytes(9)), (id("k2"), key_bytes(9))],
        id("k2"),
    )
    .unwrap();
    let mut wrapped = ring
        .wrap(&id("k1"), &DataKey::generate(), b"ctx")
        .await
        .unwrap();
    wrapped.key_id = id("k2");
    crypto_message(ring.unwrap(&wrapped, b"ctx").await);
}

#[tokio::test]
async fn unknown_key_id_fails_naming_it() {
    let ring = two_keys();
    let mut wrapped = ring
        .wrap(&ring.primary(), &DataKey::generate(), b"ctx")
        .await
        .unwrap();
    wrapped.key_id = id("k-retired");
    let message = crypto_message(ring.unwrap(&wrapped, b"ctx").await);
    assert!(
        message.contains("unknown key-encryption key id `k-retired`"),
        "{message}"
    );
    assert!(message.contains("missing a retired key"), "{message}");

    // An id from a corrupted row is escaped and bounded in the message.
    wrapped.key_id = id(&format!("evil\n{}", "x".repeat(500)));
    let message = crypto_message(ring.unwrap(&wrapped, b"ctx").await);
    assert!(!message.contains('\n'), "{message}");
    assert!(message.len() < 300, "{message}");
}

#[tokio::test]
async fn wrapping_under_an_unknown_key_is_a_config_error() {
    let ring = two_keys();
    let err = ring
        .wrap(&id("nope"), &DataKey::generate(), b"ctx")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("`nope`"), "{err}");
}

#[tokio::test]
async fn wrong_keyring_fails() {
    let provider = MemoryKeyProvider::generate(&["k1", "k2"], "k2").unwrap();
    let impostor = provider.lookalike();
    assert_eq!(impostor.primary(), provider.primary());
    assert_eq!(impostor.keyring().key_ids(), provider.keyring().key_ids());
    let key = DataKey::generate();
    let wrapped = provider.wrap(&id("k1"), &key, b"ctx").await.unwrap();
    let message = crypto_message(impostor.unwrap(&wrapped, b"ctx").await);
    assert!(
        message.contains("wrong keyring or tampered data"),
        "{message}"
    );
    // Independently generated providers share no key either.
    crypto_message(MemoryKeyProvider::new().unwrap(&wrapped, b"ctx").await);
    let fresh = MemoryKeyProvider::new();
    let theirs = fresh.wrap(&fresh.primary(), &key, b"ctx").await.unwrap();
    crypto_message(MemoryKeyProvider::new().unwrap(&theirs, b"ctx").await);
}

#[tokio::test]
async fn rotation_keeps_old_wrapped_keys_readable() {
    let before = LocalKeyring::parse(&format!("*k1:{}\nk2:{}", b64(1), b64(2))).unwrap();
    assert_eq!(before.primary(), id("k1"));
    let key = DataKey::generate();
    let old = before.wrap(&before.primary(), &key, b"s").await.unwrap();
    assert_eq!(old.key_id, id("k1"));

    let after = before.with_primary(id("k2")).unwrap();
    assert_eq!(after.primary(), id("k2"));
    let opened = after.unwrap(&old, b"s").await.unwrap();
    assert_eq!(opened.expose_secret(), key.expose_secret());
    let new = after.wrap(&after.primary(), &opened, b"s").await.unwrap();
    assert_eq!(new.key_id, id("k2"));

    // Dropping k1 too early is reported with the missing id.
    let pruned = LocalKeyring::parse(&format!("k2:{}", b64(2))).unwrap();
    assert!(pruned.unwrap(&new, b"s").await.is_ok());
    let message = crypto_message(pruned.unwrap(&old, b"s").await);
    assert!(message.contains("`k1`"), "{message}");

    // Same through the memory provider.
    let memory = MemoryKeyProvider::generate(&["a", "b"], "a").unwrap();
    let old = memory.wrap(&memory.primary(), &key, b"s").await.unwrap();
    let memory = memory.with_primary(id("b")).unwrap();
    assert_eq!(memory.primary(), id("b"));
    assert!(memory.unwrap(&old, b"s").await.is_ok());
}

#[test]
fn with_primary_rejects_unknown_ids() {
    let message = config_message(two_keys().with_primary(id("k9")));
    assert!(message.contains("`k9`"), "{message}");
    let err = MemoryKeyProvider::new().with_primary(id("k9")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn key_ids_and_contains() {
    let ring = two_keys();
    assert_eq!(ring.key_ids(), vec![id("k1"), id("k2")]);
    assert!(ring.contains(&id("k1")));
    assert!(!ring.contains(&id("k3")));
    assert!(!ring.is_demo());
}

// --- demo ---------------------------------------------------------------------------------

#[tokio::test]
async fn demo_is_flagged_and_works() {
    let demo = LocalKeyring::demo();
    assert!(demo.is_demo());
    assert_eq!(demo.primary(), id("demo"));
    assert_eq!(demo.key_ids(), vec![id("demo")]);
    let key = DataKey::generate();
    let wrapped = demo.wrap(&demo.primary(), &key, b"c").await.unwrap();
    // The demo key is public: anyone can rebuild it and open this.
    let anyone = LocalKeyring::parse(&format!(
        "demo:{}",
        STANDARD.encode(b"socialconnect-demo-key-INSECURE!")
    ))
    .unwrap();
    assert!(
        anyone.is_demo(),
        "the demo key is flagged wherever it appears"
    );
    let opened = anyone.unwrap(&wrapped, b"c").await.unwrap();
    assert_eq!(opened.expose_secret(), key.expose_secret());
    assert!(!MemoryKeyProvider::new().keyring().is_demo());
}

// --- Debug --------------------------------------------------------------------------------

#[test]
fn debug_shows_ids_only() {
    let ring = two_keys();
    let debug = format!("{ring:?} {ring:#?}");
    assert!(debug.contains("k1") && debug.contains("k2"), "{debug}");
    assert!(debug.contains("primary: \"k2\""), "{debug}");
    for seed in [1, 2] {
        let bytes = key_bytes(seed);
        assert!(!debug.contains(&b64(seed)), "{debug}");
        assert!(
            !debug.contains(&STANDARD_NO_PAD.encode(bytes)[..8]),
            "{debug}"
        );
        let hex: String = bytes[..6].iter().map(|b| format!("{b:02x}")).collect();
        assert!(!debug.contains(&hex), "{debug}");
    }
    let memory = MemoryKeyProvider::generate(&["m1"], "m1").unwrap();
    let debug = format!("{memory:?}");
    assert!(
        debug.contains("LocalKeyring") && debug.contains("m1"),
        "{debug}"
    );
    assert!(!format!("{:?}", LocalKeyring::demo()).contains("INSECURE"));
}

// --- text format: accepted ----------------------------------------------------------------

#[test]
fn single_key_is_primary_without_a_mark() {
    let ring = LocalKeyring::parse(&format!("only:{}", b64(3))).unwrap();
    assert_eq!(ring.primary(), id("only"));
    let ring = LocalKeyring::parse(&format!("*only:{}", b64(3))).unwrap();
    assert_eq!(ring.primary(), id("only"));
}

#[test]
fn accepts_padding_either_way_urlsafe_comments_and_whitespace() {
    let text = format!(
        "# keyring\r\n\
         \r\n\
         k.1:{}   # padded, standard\r\n\
         \t* K_2-x : {} ,\r\n\
         k3:{},,\n\
         # trailing comment\n",
        b64(1),
        STANDARD_NO_PAD.encode(key_bytes(2)),
        URL_SAFE_NO_PAD.encode(key_bytes(3)),
    );
    let ring = LocalKeyring::parse(&text).unwrap();
    assert_eq!(ring.key_ids(), vec![id("k.1"), id("K_2-x"), id("k3")]);
    assert_eq!(ring.primary(), id("K_2-x"));
    let ring = LocalKeyring::parse(&format!("a:{},*b:{}", b64(1), b64(2))).unwrap();
    assert_eq!(ring.primary(), id("b"));
}

#[tokio::test]
async fn parsed_key_bytes_are_the_encoded_ones() {
    let text_ring = LocalKeyring::parse(&format!("k:{}", URL_SAFE_NO_PAD.encode(key_bytes(7))));
    let raw_ring = LocalKeyring::from_keys(vec![(id("k"), key_bytes(7))], id("k")).unwrap();
    let key = DataKey::generate();
    let wrapped = raw_ring.wrap(&id("k"), &key, b"c").await.unwrap();
    let opened = text_ring.unwrap().unwrap(&wrapped, b"c").await.unwrap();
    assert_eq!(opened.expose_secret(), key.expose_secret());
}

#[test]
fn ids_of_64_characters_are_accepted() {
    let long = "a".repeat(64);
    let ring = LocalKeyring::parse(&format!("{long}:{}", b64(1))).unwrap();
    assert_eq!(ring.primary(), id(&long));
}

// --- text format: rejected ----------------------------------------------------------------

#[test]
fn malformed_keyrings_are_config_errors_without_key_material() {
    let k1 = b64(1);
    let k2 = b64(2);
    let short = STANDARD.encode([5u8; 16]);
    let long = STANDARD.encode([6u8; 33]);
    let very_long = STANDARD.encode([7u8; 300]);
    let urlsafe = URL_SAFE_NO_PAD.encode(key_bytes(4));
    let mixed = format!("{}+_", &k1[..40]);
    let cases: Vec<(String, &str, Vec<&str>)> = vec![
        (String::new(), "holds no keys", vec![]),
        (" , ,\n# nothing\n".into(), "holds no keys", vec![]),
        (k1.clone(), "entry 1: malformed entry", vec![&k1]),
        (format!(":{k1}"), "missing key id", vec![&k1]),
        (format!("k/1:{k1}"), "invalid key id", vec![&k1]),
        (
            format!("{}:{k1}", "a".repeat(65)),
            "invalid key id",
            vec![&k1],
        ),
        (format!("**k1:{k1}"), "invalid key id", vec![&k1]),
        ("k1:".into(), "key `k1`: missing key after `:`", vec![]),
        (
            "k1:!!notbase64!!".into(),
            "key `k1`: key is not valid base64",
            vec!["!!notbase64!!"],
        ),
        (format!("k1:{k1}:x"), "not valid base64", vec![&k1]),
        (format!("k1:{k1}="), "not valid base64", vec![&k1]),
        (format!("k1:{mixed}"), "not valid base64", vec![&mixed]),
        (
            format!("k1:{short}"),
            "key `k1`: key is too short (16 bytes",
            vec![&short],
        ),
        (
            format!("k1:{long}"),
            "key `k1`: key is too long (33 bytes",
            vec![&long],
        ),
        (
            format!("k1:{very_long}"),
            "key `k1`: key is too long",
            vec![&very_long],
        ),
        (
            format!("k1:{k1}\n*k2:{short}"),
            "entry 2 (line 2): key `k2`: key is too short",
            vec![&k1, &short],
        ),
        (
            format!("k1:{k1},k1:{k2}"),
            "entry 2: duplicate key id `k1`",
            vec![&k1, &k2],
        ),
        (
            format!("k1:{k1},k2:{k2}"),
            "no primary among 2 keys",
            vec![&k1, &k2],
        ),
        (
            format!("*k1:{k1},*k2:{k2}"),
            "more than one primary key (`k1`, `k2`)",
            vec![&k1, &k2],
        ),
        // A key pasted before its id: the "id" is key text and must not be echoed.
        (
            format!("{urlsafe}:k1"),
            "key with a 43-character id",
            vec![&urlsafe],
        ),
    ];
    for (text, expected, secrets) in cases {
        let message = config_message(LocalKeyring::parse(&text));
        assert!(
            message.contains(expected),
            "for input {text:?}: expected {expected:?} in {message:?}"
        );
        assert!(message.contains("keyring text"), "{message}");
        for secret in secrets {
            assert!(!message.contains(secret), "{message} leaks {secret}");
            assert!(
                !message.contains(&secret[..secret.len().min(12)]),
                "{message}"
            );
        }
    }
}

#[test]
fn from_keys_validates() {
    let message = config_message(LocalKeyring::from_keys(vec![], id("k1")));
    assert!(message.contains("no keys"), "{message}");
    let message = config_message(LocalKeyring::from_keys(
        vec![(id("k1"), key_bytes(1)), (id("k1"), key_bytes(2))],
        id("k1"),
    ));
    assert!(message.contains("duplicate id `k1`"), "{message}");
    let message = config_message(LocalKeyring::from_keys(
        vec![(id("bad id"), key_bytes(1))],
        id("bad id"),
    ));
    assert!(message.contains("invalid id"), "{message}");
    let message = config_message(LocalKeyring::from_keys(
        vec![(id("k1"), key_bytes(1))],
        id("k2"),
    ));
    assert!(message.contains("`k2` is not in the keyring"), "{message}");
    let err = MemoryKeyProvider::generate(&[], "a").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = MemoryKeyProvider::generate(&["a"], "b").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

// --- environment --------------------------------------------------------------------------

#[test]
fn missing_environment_variable_is_named() {
    let name = "SOCIALCONNECT_KEYRING_TEST_SURELY_UNSET";
    let message = config_message(LocalKeyring::from_env_var(name));
    assert!(
        message.contains(name) && message.contains("is not set"),
        "{message}"
    );
    assert_eq!(KEYRING_ENV, "SOCIALCONNECT_KEYRING");
}

const CHILD_VAR: &str = "SOCIALCONNECT_KEYRING_TEST_CHILD";

/// Runs only inside the child process spawned by `environment_variable_is_read`; the tests
/// cannot set variables themselves, since `set_var` is unsafe and this workspace forbids unsafe.
#[test]
fn env_child() {
    let Ok(expected) = std::env::var("SOCIALCONNECT_KEYRING_TEST_EXPECT") else {
        return;
    };
    match LocalKeyring::from_env_var(CHILD_VAR) {
        Ok(ring) => assert_eq!(format!("ok {}", ring.primary()), expected),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.to_string().contains(&expected), "{e}");
            assert!(e.to_string().contains(CHILD_VAR), "{e}");
        }
    }
}

#[test]
fn environment_variable_is_read() {
    let cases = [
        (format!("k1:{},*k2:{}", b64(1), b64(2)), "ok k2".to_owned()),
        (
            format!("k1:{}", STANDARD.encode([1u8; 31])),
            "too short".to_owned(),
        ),
        (String::new(), "holds no keys".to_owned()),
    ];
    for (value, expect) in cases {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "env_child", "--test-threads=1", "--quiet"])
            .env(CHILD_VAR, &value)
            .env("SOCIALCONNECT_KEYRING_TEST_EXPECT", &expect)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "child failed for expectation {expect:?}");
    }
}

// --- files --------------------------------------------------------------------------------

fn keyring_file(text: &str, mode: u32) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file.flush().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
    file
}

#[test]
fn reads_a_private_file() {
    let file = keyring_file(
        &format!("# production keys\n\nk1:{}\n*k2:{}\n", b64(1), b64(2)),
        0o600,
    );
    let ring = LocalKeyring::from_file(file.path()).unwrap();
    assert_eq!(ring.primary(), id("k2"));
    let file = keyring_file(&format!("k1:{}", b64(1)), 0o400);
    assert!(LocalKeyring::from_file(file.path()).is_ok());
}

#[cfg(unix)]
#[test]
fn refuses_a_file_others_can_access() {
    for mode in [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601] {
        let file = keyring_file(&format!("k1:{}", b64(1)), mode);
        let message = config_message(LocalKeyring::from_file(file.path()));
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains(&format!("{mode:#o}")), "{message}");
        assert!(message.contains("chmod 600"), "{message}");
        assert!(!message.contains(&b64(1)), "{message}");
    }
}

#[test]
fn file_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.keys");
    let message = config_message(LocalKeyring::from_file(&missing));
    assert!(message.contains("absent.keys"), "{message}");
    assert!(message.contains("cannot open"), "{message}");

    let message = config_message(LocalKeyring::from_file(dir.path()));
    assert!(message.contains("cannot") || message.contains("not a regular file"));

    let bad = STANDARD.encode([1u8; 31]);
    let file = keyring_file(&format!("# header\n*k1:{}\nk2:{bad}\n", b64(1)), 0o600);
    let message = config_message(LocalKeyring::from_file(file.path()));
    assert!(message.contains("keyring file"), "{message}");
    assert!(
        message.contains("entry 2 (line 3): key `k2`: key is too short"),
        "{message}"
    );
    assert!(!message.contains(&bad), "{message}");

    let file = keyring_file("k1:\u{0}\u{ff}", 0o600);
    config_message(LocalKeyring::from_file(file.path()));
    let mut not_utf8 = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut not_utf8, b"k1:\xff\xfe").unwrap();
    let message = config_message(LocalKeyring::from_file(not_utf8.path()));
    assert!(message.contains("not valid UTF-8"), "{message}");
}

// --- properties ---------------------------------------------------------------------------

/// The key text of every entry, split as the keyring format does.
fn bodies(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| line.split(','))
        .filter_map(|entry| {
            entry
                .split_once(':')
                .map(|(_, body)| body.trim().to_owned())
        })
        .collect()
}

fn entry() -> impl Strategy<Value = String> {
    prop_oneof![
        // Well-formed entries with real keys.
        (any::<bool>(), "[a-z0-9]{1,6}", any::<[u8; 32]>()).prop_map(|(star, id, key)| {
            format!(
                "{}{id}:{}",
                if star { "*" } else { "" },
                STANDARD.encode(key)
            )
        }),
        // Near misses: wrong lengths, alphabets, padding.
        (
            "[*]?[a-z0-9._-]{0,8}",
            prop::collection::vec(any::<u8>(), 0..80)
        )
            .prop_map(|(id, key)| format!("{id}:{}", URL_SAFE_NO_PAD.encode(key))),
        "[*]?[A-Za-z0-9._-]{0,70}:[A-Za-z0-9+/=_ -]{0,100}",
        // Keys pasted before the id.
        (any::<[u8; 32]>(), "[a-z0-9]{1,6}")
            .prop_map(|(key, id)| format!("{}:{id}", URL_SAFE_NO_PAD.encode(key))),
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = LocalKeyring::parse(&text);
    }

    #[test]
    fn parse_errors_never_echo_key_text(
        entries in prop::collection::vec(entry(), 0..5),
        separators in prop::collection::vec(prop_oneof![Just(","), Just("\n"), Just("\r\n")], 5),
    ) {
        let mut text = String::new();
        for (i, entry) in entries.iter().enumerate() {
            text.push_str(entry);
            text.push_str(separators[i]);
        }
        if let Err(e) = LocalKeyring::parse(&text) {
            prop_assert_eq!(e.kind(), ErrorKind::Config);
            let message = e.to_string();
            for body in bodies(&text) {
                if body.len() >= 8 {
                    prop_assert!(!message.contains(&body), "{} leaks {}", message, body);
                }
            }
            // Keys pasted before their id are not echoed either.
            for entry in &entries {
                if let Some((head, _)) = entry.split_once(':') {
                    let head = head.trim().trim_start_matches('*').trim();
                    if head.len() > 32 && LocalKeyring::parse(entry).is_err() {
                        prop_assert!(!message.contains(head), "{} leaks {}", message, head);
                    }
                }
            }
        }
    }
}

#[test]
fn errors_are_plain_config_errors() {
    // Hosts match on the kind; make sure it is the variant they expect too.
    assert!(matches!(
        LocalKeyring::parse("nonsense"),
        Err(Error::Config(_))
    ));
}
