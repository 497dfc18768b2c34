//! `--https`: the certificate and key files, checked at start and reloaded when they change, with
//! a daily warning in the log once the served certificate is within two weeks of its expiry.
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
    /// The leaf's last valid time, as printed.
    pub(crate) not_after: String,
    /// The same, seconds since the Unix epoch.
    not_after_unix: i64,
}

/// The certificate and key files, and the version of them last looked at.
#[derive(Debug)]
pub(crate) struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    seen: (Stamp, Stamp),
    /// When the served certificate expires (Unix seconds) and how it prints.
    serving_until: (i64, String),
    /// When the last warning about its expiry was logged.
    warned: Option<SystemTime>,
}

/// How long before its expiry the served certificate is warned about, and how often.
const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);
const EXPIRY_WARNING_EVERY: Duration = Duration::from_secs(24 * 3600);

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
        let serving_until = (pair.not_after_unix, pair.not_after.clone());
        let files = CertFiles { cert: cert.to_owned(), key: key.to_owned(), seen, serving_until, warned: None };
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
                self.serving_until = (pair.not_after_unix, pair.not_after.clone());
                self.warned = None;
                Check::Reloaded(pair)
            }
            Err(e) => Check::Refused(e),
        }
    }
}

impl CertFiles {
    /// A warning when the served certificate expires within two weeks (at most one a day), or
    /// has expired: a renewal that never came, or keeps being refused.
    pub(crate) fn expiry_warning(&mut self, now: SystemTime) -> Option<String> {
        let (until, printed) = &self.serving_until;
        let left = *until - unix_seconds(now);
        let recently = self.warned.and_then(|at| now.duration_since(at).ok()).is_some_and(|d| d < EXPIRY_WARNING_EVERY);
        if left > EXPIRY_WARNING.as_secs() as i64 || recently {
            return None;
        }
        self.warned = Some(now);
        Some(if left < 0 {
            format!("the served TLS certificate expired on {printed}: clients refuse it; renew {}", self.cert.display())
        } else {
            format!(
                "the served TLS certificate expires on {printed} (in {} days): renew {}",
                left / 86_400,
                self.cert.display()
            )
        })
    }
}

/// `time` as seconds since the Unix epoch (negative before it).
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
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
    let (subject, not_after, not_after_unix) =
        check_dates(&chain[0], now).map_err(|e| format!("the TLS certificate {} {e}", cert_path.display()))?;
    let key = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => format!(
            "the TLS key {} does not match the certificate {} (a pair from different renewals?)",
            key_path.display(),
            cert_path.display()
        ),
        other => format!("cannot use the TLS key {}: {other}", key_path.display()),
    })?;
    Ok(LoadedPair { key: Arc::new(key), subject, not_after, not_after_unix })
}

/// The leaf's subject and last valid time (printed, and in Unix seconds), if `now` is within its
/// dates; else why not, as the end of a sentence about the certificate ("expired on …").
fn check_dates(leaf: &CertificateDer<'_>, now: SystemTime) -> Result<(String, String, i64), String> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf).map_err(|e| format!("is not a valid X.509 certificate: {e}"))?;
    let validity = cert.validity();
    let now = unix_seconds(now);
    if now < validity.not_before.timestamp() {
        return Err(format!("is not valid before {} (check the clock, or wait)", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        return Err(format!("expired on {}", validity.not_after));
    }
    Ok((cert.subject().to_string(), validity.not_after.to_string(), validity.not_after.timestamp()))
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
        if let Some(warning) = files.expiry_warning(SystemTime::now()) {
            tracing::warn!("{warning}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!("octotracker-tls-unit-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }

        /// Writes `text` as a new file (a new inode, as a rename leaves it).
        fn replace(&self, file: &str, text: &str) -> PathBuf {
            let (path, tmp) = (self.0.join(file), self.0.join(format!(".{file}.tmp")));
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A self-signed pair for `name`, valid from 2026-01-01 to 2026-03-01: (cert, key) PEM.
    fn pair(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2026, 3, 1);
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    }

    /// The Unix time of midnight UTC of a day in 2026 (`day` of the year, from 1).
    fn day_2026(day: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + (day - 1) * 86_400)
    }

    fn serves(cert: &ReloadingCert, subject: &str, files: &CertFiles) -> bool {
        let current = cert.current.load_full();
        let (_, leaf) = x509_parser::parse_x509_certificate(&current.cert[0]).unwrap();
        leaf.subject().to_string() == format!("CN={subject}") && files.serving_until.0 > 0
    }

    #[test]
    fn a_pair_is_refused_outside_its_dates_by_the_clock_it_is_given() {
        let dir = Dir::new("dates");
        let (cert, key) = pair("dated");
        let (cert, key) = (dir.replace("c.pem", &cert), dir.replace("k.pem", &key));
        assert!(load_pair(&cert, &key, day_2026(20)).is_ok());
        let err = load_pair(&cert, &key, day_2026(70)).unwrap_err();
        assert!(err.contains("expired on Mar  1 00:00:00 2026"), "{err}");
        let err = load_pair(&cert, &key, day_2026(1) - Duration::from_secs(1)).unwrap_err();
        assert!(err.contains("is not valid before Jan  1 00:00:00 2026"), "{err}");
    }

    #[test]
    fn a_changed_pair_is_served_only_once_both_files_match_and_a_refusal_is_not_repeated() {
        let dir = Dir::new("check");
        let (old_cert, old_key) = pair("old");
        let (new_cert, new_key) = pair("new");
        let (cert, key) = (dir.replace("c.pem", &old_cert), dir.replace("k.pem", &old_key));
        let now = day_2026(20);
        let (mut files, served, _) = CertFiles::load(&cert, &key, now).unwrap();
        assert!(matches!(files.check(&served, now), Check::Unchanged));

        dir.replace("c.pem", &new_cert);
        let refused = files.check(&served, now);
        assert!(matches!(&refused, Check::Refused(why) if why.contains("does not match")), "{refused:?}");
        assert!(serves(&served, "old", &files));
        assert!(matches!(files.check(&served, now), Check::Unchanged), "a refused version is not retried");

        dir.replace("k.pem", &new_key[..new_key.len() / 3]);
        assert!(matches!(files.check(&served, now), Check::Refused(why) if why.contains("no usable private key")));
        assert!(serves(&served, "old", &files));

        dir.replace("k.pem", &new_key);
        assert!(matches!(files.check(&served, now), Check::Reloaded(pair) if pair.subject == "CN=new"));
        assert!(serves(&served, "new", &files));
    }

    #[test]
    fn the_served_certificate_is_warned_about_daily_in_its_last_two_weeks() {
        let dir = Dir::new("expiry");
        let (cert, key) = pair("expiring");
        let (cert, key) = (dir.replace("c.pem", &cert), dir.replace("k.pem", &key));
        // Valid until day 60 (1 March).
        let (mut files, _, _) = CertFiles::load(&cert, &key, day_2026(20)).unwrap();
        assert_eq!(files.expiry_warning(day_2026(40)), None, "20 days left");
        let warning = files.expiry_warning(day_2026(50)).expect("10 days left");
        assert!(warning.contains("expires on Mar  1 00:00:00 2026 +00:00 (in 10 days)"), "{warning}");
        assert_eq!(files.expiry_warning(day_2026(50) + Duration::from_secs(3600)), None, "once a day");
        assert!(files.expiry_warning(day_2026(51)).is_some_and(|w| w.contains("in 9 days")));
        let expired = files.expiry_warning(day_2026(61)).expect("expired");
        assert!(expired.contains("expired on Mar  1 00:00:00 2026 +00:00: clients refuse it"), "{expired}");
    }
}
