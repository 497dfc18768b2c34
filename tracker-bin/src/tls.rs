//! `--https`: the certificate and key files, checked at start and reloaded when they change.
//!
//! The rustls configuration every `--https` listener shares resolves each handshake's
//! certificate from one [`ReloadingCert`]. [`CertFiles`] reads the PEM pair and checks it (a
//! certificate, a private key that matches it, dates that hold today); at start a refusal stops
//! the binary (exit 2), later one keeps the pair in service and is logged once.
//!
//! Why polling the files' metadata (modification time, size, inode) every `reload_interval`
//! rather than inotify: renewal tools replace certificates in ways inotify sees differently
//! (certbot swaps symlinks under `live/`, Kubernetes swaps a `..data` symlink over a directory,
//! editors write a new file and rename it), and a watch on the file itself misses most of them.
//! One `stat(2)` per file per interval follows symlinks like the open that reads them, costs
//! nothing, needs no crate, and SIGHUP checks at once for whoever cannot wait.
//!
//! A renewal writes two files one after the other: between the two, the certificate and the key
//! do not match (or one is half written and does not parse). That pair is refused, the served one
//! stays, and the next change (the second file landing) is checked again: no handshake ever gets
//! a mismatched pair, and connections already open are not touched.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use octotracker_core::{FrontendError, Shutdown};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::sync::Notify;

/// The certificate every handshake of the `--https` listeners presents; swapped whole on reload
/// (handshakes under way keep the one they took).
#[derive(Debug)]
pub(crate) struct ReloadingCert {
    current: ArcSwap<CertifiedKey>,
}

impl ReloadingCert {
    fn new(first: Arc<CertifiedKey>) -> Self {
        ReloadingCert { current: ArcSwap::new(first) }
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The crypto every TLS listener uses: rustls' ring provider.
// DEPRECATED: rustls 0.23.48 marks ring's provider deprecated because ring has no post-quantum key
// exchange (X25519MLKEM768); aws-lc-rs has it but adds a large C build. BitTorrent clients
// announce nothing secret enough to outlive classical ECDHE, so ring stays for now.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration of the `--https` listeners (TLS 1.2 and 1.3, no client
/// certificates), its certificate resolved from `cert`.
pub(crate) fn server_config(cert: Arc<ReloadingCert>) -> Result<rustls::ServerConfig, String> {
    Ok(rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(cert))
}

/// What identifies a version of a file without reading it: where it is, when it was changed,
/// how long it is. `None` when it cannot be read (mid-replacement, or gone).
type Stamp = Option<(u64, u64, SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino(), meta.modified().ok()?, meta.len()))
}

/// A checked pair and what to log about it.
#[derive(Debug)]
pub(crate) struct LoadedPair {
    /// The chain and the key, ready to serve.
    pub(crate) key: Arc<CertifiedKey>,
    /// The leaf's subject, e.g. `CN=tracker.example`.
    pub(crate) subject: String,
    /// The leaf's last valid day.
    pub(crate) not_after: String,
}

/// The certificate and key files, and the version of them last looked at.
#[derive(Debug)]
pub(crate) struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    seen: (Stamp, Stamp),
}

/// The result of one [`CertFiles::check`].
#[derive(Debug)]
pub(crate) enum Check {
    /// Neither file changed since the last check.
    Unchanged,
    /// A changed pair passed and is now served.
    Reloaded(LoadedPair),
    /// A changed pair failed; the one in service stays.
    Refused(String),
}

impl CertFiles {
    /// Reads and checks the pair at start (`now` decides whether its dates hold): the resolver
    /// serving it, and the files to watch. The error is the operator's message.
    pub(crate) fn load(
        cert: &Path,
        key: &Path,
        now: SystemTime,
    ) -> Result<(Self, Arc<ReloadingCert>, LoadedPair), String> {
        let seen = (stamp(cert), stamp(key));
        let pair = load_pair(cert, key, now)?;
        let files = CertFiles { cert: cert.to_owned(), key: key.to_owned(), seen };
        Ok((files, Arc::new(ReloadingCert::new(pair.key.clone())), pair))
    }

    /// Looks at the files; when either changed since the last look, reads and checks the pair
    /// and, if it passes, serves it from `into`. A refused version is not tried again until a
    /// file changes again.
    pub(crate) fn check(&mut self, into: &ReloadingCert, now: SystemTime) -> Check {
        let stamps = (stamp(&self.cert), stamp(&self.key));
        if stamps == self.seen {
            return Check::Unchanged;
        }
        self.seen = stamps;
        match load_pair(&self.cert, &self.key, now) {
            Ok(pair) => {
                into.current.store(pair.key.clone());
                Check::Reloaded(pair)
            }
            Err(e) => Check::Refused(e),
        }
    }
}

/// Reads the PEM certificate chain (leaf first) and private key, and checks that the key
/// matches the leaf and that the leaf is valid at `now`.
pub(crate) fn load_pair(cert_path: &Path, key_path: &Path, now: SystemTime) -> Result<LoadedPair, String> {
    let cert_pem = std::fs::read(cert_path)
        .map_err(|e| format!("cannot read the TLS certificate {}: {e}", cert_path.display()))?;
    let key_pem =
        std::fs::read(key_path).map_err(|e| format!("cannot read the TLS key {}: {e}", key_path.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM in the TLS certificate {}: {e}", cert_path.display()))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {} (expected PEM: -----BEGIN CERTIFICATE-----)", cert_path.display()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!(
            "no usable private key in {} (expected PEM: PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY): {e}",
            key_path.display()
        )
    })?;
    let (subject, not_after) =
        check_dates(&chain[0], now).map_err(|e| format!("the TLS certificate {} {e}", cert_path.display()))?;
    let key = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => format!(
            "the TLS key {} does not match the certificate {} (a pair from different renewals?)",
            key_path.display(),
            cert_path.display()
        ),
        other => format!("cannot use the TLS key {}: {other}", key_path.display()),
    })?;
    Ok(LoadedPair { key: Arc::new(key), subject, not_after })
}

/// The leaf's subject and last valid time, if `now` is within its dates; else why not, as the
/// end of a sentence about the certificate ("expired on …").
fn check_dates(leaf: &CertificateDer<'_>, now: SystemTime) -> Result<(String, String), String> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf).map_err(|e| format!("is not a valid X.509 certificate: {e}"))?;
    let validity = cert.validity();
    let now = match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    if now < validity.not_before.timestamp() {
        return Err(format!("is not valid before {} (check the clock, or wait)", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        return Err(format!("expired on {}", validity.not_after));
    }
    Ok((cert.subject().to_string(), validity.not_after.to_string()))
}

/// Checks the files every `every` and whenever `now_please` is notified (SIGHUP), until
/// `shutdown`; logs each reload and each refusal.
pub(crate) async fn reload_periodically(
    mut files: CertFiles,
    cert: Arc<ReloadingCert>,
    every: Duration,
    now_please: Arc<Notify>,
    mut shutdown: Shutdown,
) -> Result<(), FrontendError> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = now_please.notified() => {}
            () = &mut shutdown => return Ok(()),
        }
        match files.check(&cert, SystemTime::now()) {
            Check::Unchanged => {}
            Check::Reloaded(pair) => tracing::info!(
                subject = %pair.subject,
                not_after = %pair.not_after,
                "TLS certificate reloaded from {}",
                files.cert.display()
            ),
            Check::Refused(why) => tracing::warn!("TLS certificate not reloaded, the previous one stays: {why}"),
        }
    }
}
