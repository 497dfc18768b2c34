//! A throwaway certificate authority for the TLS tests, made with rcgen when a test starts: a
//! CA certificate to trust, and leaf certificates for 127.0.0.1 / localhost with the dates a
//! test asks for.

// Each test binary compiles this module; not every one uses all of it.
#![allow(dead_code)]

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A certificate authority of its own.
pub(crate) struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM: what clients are told to trust.
    pub(crate) pem: String,
}

/// A leaf certificate and its key, PEM.
pub(crate) struct Leaf {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    /// The certificate, DER: what a client sees in the handshake.
    pub(crate) der: Vec<u8>,
}

impl TestCa {
    pub(crate) fn new() -> TestCa {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "octotracker test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let pem = params.self_signed(&key).expect("a self-signed CA").pem();
        TestCa { issuer: Issuer::new(params, key), pem }
    }

    /// A leaf for `127.0.0.1`, `::1` and `localhost` named `common_name`, valid from one day
    /// ago for a year.
    pub(crate) fn leaf(&self, common_name: &str) -> Leaf {
        let now = time_now();
        self.leaf_valid(common_name, now - DAY, now + 365 * DAY)
    }

    /// A leaf valid between the two Unix times (seconds).
    pub(crate) fn leaf_valid(&self, common_name: &str, not_before: i64, not_after: i64) -> Leaf {
        let key = KeyPair::generate().expect("a leaf key");
        let names = vec!["127.0.0.1".to_owned(), "::1".to_owned(), "localhost".to_owned()];
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(not_before as u64);
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(not_after as u64);
        let cert = params.signed_by(&key, &self.issuer).expect("a signed leaf");
        Leaf { cert_pem: cert.pem(), key_pem: key.serialize_pem(), der: cert.der().to_vec() }
    }
}

/// Seconds in a day.
pub(crate) const DAY: i64 = 24 * 3600;

/// The Unix time now, in seconds.
pub(crate) fn time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// A rustls client trusting only `ca_pem`, offering ALPN `http/1.1`.
pub(crate) fn connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("the CA's PEM")).expect("a usable CA");
    }
    #[allow(deprecated)] // ring: see tracker-bin/src/tls.rs
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Every handshake a full one: a resumed session shows the certificate of the session it
    // resumes, not the one the server serves now.
    config.resumption = rustls::client::Resumption::disabled();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

/// A TLS connection to the tracker at `addr` (verified as `127.0.0.1`).
pub(crate) type Conn = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// Connects and completes the handshake.
pub(crate) async fn connect(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
) -> std::io::Result<Conn> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    connector.connect(name, tcp).await
}

/// The leaf certificate the server presented on `conn`, DER.
pub(crate) fn presented(conn: &Conn) -> Vec<u8> {
    conn.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).unwrap_or_default()
}

/// Sends `GET target` on a keep-alive connection and reads one response: (status, body).
pub(crate) async fn get(conn: &mut Conn, target: &str) -> std::io::Result<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    conn.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a whole response"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            return Ok((status, buf[end + 4..end + 4 + length].to_vec()));
        }
    }
}

/// An announce query for the hash made of byte `n` from peer `peer` on `port`.
pub(crate) fn announce_target(n: u8, peer: u16, port: u16) -> String {
    let hash = format!("%{n:02x}").repeat(20);
    format!("/announce?info_hash={hash}&peer_id=-OT0001-{peer:012}&port={port}&uploaded=0&downloaded=0&left=10")
}
