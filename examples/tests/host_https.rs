//! The host binary over real HTTPS, its default: the self-signed demo certificate is generated
//! into the data directory (its key readable by the owner only) for `localhost` and
//! `127.0.0.1`, and reused on the next start; answers carry HSTS; the demo session cookie is
//! `Secure`, `HttpOnly` and `SameSite`; a certificate given with `--tls-cert`/`--tls-key` is
//! served instead and nothing is generated.
//!
//! The workspace's reqwest has no TLS on purpose, so requests go over a raw rustls handshake
//! (trusting only the host's certificate) with HTTP/1.1 written by hand, as in
//! `socialconnect-axum/tests/serve.rs`.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running host: the process and the port it serves on.
struct Host {
    _child: Killed,
    port: u16,
}

/// Starts the host binary without `--insecure-http-loopback` on a free loopback port, with
/// `data` as its data directory and `extra` arguments; checks it says it serves HTTPS.
fn start_host(data: &Path, extra: &[&OsStr]) -> Host {
    let mut child = Command::new(env!("CARGO_BIN_EXE_host"))
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .env_remove("SOCIALCONNECT_KEYRING")
        .env_remove("SOCIALCONNECT_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the host binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let child = Killed(child);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // Keep reading what the host prints, so its stdout never closes under it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the host did not start: {line:?}"))
        .to_owned();
    let port = url
        .strip_prefix("https://localhost:")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not an HTTPS localhost URL: {url}"))
        .parse()
        .unwrap();
    Host {
        _child: child,
        port,
    }
}

/// A TLS client trusting only the certificates in the PEM `cert` (the ring provider).
fn client_trusting(cert: &[u8]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(cert) {
        roots.add(der.unwrap()).unwrap();
    }
    assert!(!roots.is_empty(), "no certificate in the PEM");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// Sends the HTTP/1.1 `request` (head and body, asking `Connection: close`) over TLS to the
/// host on `port`, verifying its certificate for `name`; returns the whole answer.
async fn exchange(
    connector: &TlsConnector,
    port: u16,
    name: ServerName<'static>,
    request: &str,
) -> io::Result<String> {
    let tcp = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    // A peer closing without TLS `close_notify` once it has answered is tolerated.
    match tls.read_to_end(&mut answer).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => return Err(e),
    }
    String::from_utf8(answer).map_err(io::Error::other)
}

/// `GET path` as `localhost`, with an optional `Cookie` header.
async fn get(
    connector: &TlsConnector,
    port: u16,
    path: &str,
    cookie: Option<&str>,
) -> io::Result<String> {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    exchange(
        connector,
        port,
        localhost(),
        &format!(
            "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\n{cookie}Connection: close\r\n\r\n"
        ),
    )
    .await
}

/// `POST path` as `localhost` with a URL-encoded form body.
async fn post_form(
    connector: &TlsConnector,
    port: u16,
    path: &str,
    form: &str,
) -> io::Result<String> {
    exchange(
        connector,
        port,
        localhost(),
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            form.len()
        ),
    )
    .await
}

/// The status code of a raw HTTP answer.
fn status(answer: &str) -> u16 {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.1 answer: {answer:?}"))
}

/// Every value of header `name` in a raw HTTP answer (names compared ignoring case).
fn headers<'a>(answer: &'a str, name: &str) -> Vec<&'a str> {
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    headers(answer, name).into_iter().next()
}

/// Asserts the answer carries HSTS for at least a year.
fn assert_hsts(answer: &str) {
    let hsts =
        header(answer, "strict-transport-security").unwrap_or_else(|| panic!("no HSTS: {answer}"));
    let max_age: u64 = hsts
        .split(';')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .unwrap_or_else(|| panic!("no max-age: {hsts}"))
        .parse()
        .unwrap();
    assert!(max_age >= 31_536_000, "at least a year: {hsts}");
}

/// The rustls error under an I/O error from the handshake.
fn tls_error(e: &io::Error) -> &rustls::Error {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {e:?}"))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_certificate_is_private_covers_localhost_and_is_reused_on_restart() {
    let data = tempfile::tempdir().unwrap();
    let tls = data.path().join("tls");
    let host = start_host(data.path(), &[]);
    let cert = read(&tls.join("cert.pem"));
    let key = read(&tls.join("key.pem"));
    assert!(String::from_utf8_lossy(&cert).contains("BEGIN CERTIFICATE"));
    assert!(String::from_utf8_lossy(&key).contains("PRIVATE KEY"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tls.join("key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is the owner's only: {mode:o}");
    }

    // Its subject names cover `localhost` and `127.0.0.1`, and names are checked: another
    // host name is refused by a client that trusts the certificate.
    let trusting = client_trusting(&cert);
    let request = "GET /sign-in HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    for name in [
        localhost(),
        ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into()),
    ] {
        let answer = exchange(&trusting, host.port, name.clone(), request)
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(status(&answer), 200, "{name:?}: {answer}");
    }
    let refused = exchange(
        &trusting,
        host.port,
        ServerName::try_from("example.com").unwrap(),
        request,
    )
    .await
    .expect_err("the certificate is not for example.com");
    assert!(
        matches!(
            tls_error(&refused),
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{refused:?}"
    );
    // A client trusting another certificate gets no answer: it is this one that is served.
    let other = tempfile::tempdir().unwrap();
    let (other_cert, _) = socialconnect_axum::self_signed(other.path()).unwrap();
    let stranger = client_trusting(&read(&other_cert));
    let refused = get(&stranger, host.port, "/sign-in", None)
        .await
        .expect_err("an untrusted certificate");
    // (Every demo certificate has rcgen's same subject, so the client takes the other one for
    // the issuer and finds the signature wrong rather than the issuer unknown.)
    assert!(
        matches!(
            tls_error(&refused),
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature
            )
        ),
        "{refused:?}"
    );
    drop(host);

    // The second start on the same data directory serves the same certificate and key.
    let again = start_host(data.path(), &[]);
    assert_eq!(
        read(&tls.join("cert.pem")),
        cert,
        "the certificate is reused"
    );
    assert_eq!(read(&tls.join("key.pem")), key, "the key is reused");
    let answer = get(&trusting, again.port, "/sign-in", None).await.unwrap();
    assert_eq!(status(&answer), 200, "{answer}");
    assert_hsts(&answer);
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_carry_hsts_and_the_session_cookie_is_secure_http_only_and_same_site() {
    let data = tempfile::tempdir().unwrap();
    let host = start_host(data.path(), &[]);
    let connector = client_trusting(&read(&data.path().join("tls").join("cert.pem")));

    // Pages, redirects and errors alike.
    for (path, expected) in [
        ("/sign-in", 200),
        ("/privacy", 303),
        ("/", 303),
        ("/no-such-route", 404),
    ] {
        let answer = get(&connector, host.port, path, None).await.unwrap();
        assert_eq!(status(&answer), expected, "{path}: {answer}");
        assert_hsts(&answer);
        assert_eq!(header(&answer, "x-content-type-options"), Some("nosniff"));
    }

    let signed = post_form(
        &connector,
        host.port,
        "/sign-in",
        "user=zoe&next=%2Fprivacy",
    )
    .await
    .unwrap();
    assert_eq!(status(&signed), 303, "{signed}");
    assert_eq!(header(&signed, "location"), Some("/privacy"));
    assert_hsts(&signed);
    let cookies = headers(&signed, "set-cookie");
    assert_eq!(cookies.len(), 1, "{signed}");
    let cookie = cookies[0];
    let mut parts = cookie.split(';').map(str::trim);
    let pair = parts.next().unwrap();
    assert!(pair.starts_with("sc_demo_session=zoe."), "{cookie}");
    let attributes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    for wanted in ["secure", "httponly", "samesite=lax"] {
        assert!(
            attributes.iter().any(|a| a == wanted),
            "{wanted} missing: {cookie}"
        );
    }

    // The cookie signs the user in over HTTPS.
    let page = get(&connector, host.port, "/privacy", Some(pair))
        .await
        .unwrap();
    assert_eq!(status(&page), 200, "{page}");
    assert!(
        page.contains("Signed in as <strong id=\"subject\">zoe</strong>"),
        "{page}"
    );
    assert_hsts(&page);

    // No plain-HTTP fallback on the HTTPS port.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{}/sign-in", host.port))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_given_certificate_is_served_and_none_is_generated() {
    let given = tempfile::tempdir().unwrap();
    let (cert, key) = socialconnect_axum::self_signed(given.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let host = start_host(
        data.path(),
        &[
            OsStr::new("--tls-cert"),
            cert.as_os_str(),
            OsStr::new("--tls-key"),
            key.as_os_str(),
        ],
    );
    let answer = get(&client_trusting(&read(&cert)), host.port, "/sign-in", None)
        .await
        .unwrap();
    assert_eq!(status(&answer), 200, "{answer}");
    assert_hsts(&answer);
    assert!(
        !data.path().join("tls").exists(),
        "no demo certificate is generated when one is given"
    );
}
