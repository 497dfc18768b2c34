//! The `--https` listeners: bound and given their certificate before anything starts, then
//! served as HTTP frontends over TLS beside the plain ones, with the certificate files watched.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use octotracker_core::{Frontend, FrontendError, Shutdown, Tracker};
use octotracker_http::HttpFrontend;
use tokio::sync::Notify;

use crate::Failure;
use crate::listen::bind_tcp;
use crate::settings::Settings;
use crate::tls::{CertFiles, ReloadingCert};

/// The HTTPS listeners of a server, ready to serve.
pub(crate) struct Https {
    frontends: Vec<HttpFrontend>,
    files: CertFiles,
    cert: Arc<ReloadingCert>,
    reload_interval: Duration,
    /// Notified on SIGHUP: check the certificate files now.
    pub(crate) check_now: Arc<Notify>,
}

impl Https {
    /// Reads and checks the certificate and binds every `--https` address; `None` without
    /// `--https`. An unusable certificate or address is the operator's error (exit 2).
    pub(crate) fn bind(settings: &Settings) -> Result<Option<Https>, Failure> {
        let Some(tls) = &settings.tls else { return Ok(None) };
        let (files, cert, pair) = CertFiles::load(&tls.cert, &tls.key, SystemTime::now()).map_err(Failure::Usage)?;
        tracing::info!(subject = %pair.subject, not_after = %pair.not_after, "TLS certificate {}", tls.cert.display());
        let config = crate::tls::server_config(cert.clone()).map_err(Failure::Runtime)?;
        let mut frontends = Vec::new();
        for addr in &tls.https {
            let std_listener =
                bind_tcp(*addr).map_err(|e| Failure::Usage(format!("cannot listen on https://{addr}: {e}")))?;
            let listener = tokio::net::TcpListener::from_std(std_listener)
                .map_err(|e| Failure::Runtime(format!("cannot listen on https://{addr}: {e}")))?;
            frontends.push(HttpFrontend::new(listener, settings.http.clone()).with_tls(&config));
        }
        let check_now = Arc::new(Notify::new());
        Ok(Some(Https { frontends, files, cert, reload_interval: tls.reload_interval, check_now }))
    }

    /// Serves every listener and watches the certificate files, each as a task of `tasks`
    /// ending when its `shutdown()` resolves. WebSocket upgrades on these listeners (`wss://`)
    /// go to `upgrades`, the service the plain HTTP listeners hand theirs to.
    pub(crate) fn spawn(
        self,
        tasks: &mut tokio::task::JoinSet<Result<(), FrontendError>>,
        tracker: &Arc<Tracker>,
        upgrades: &octotracker_ws::WsService,
        shutdown: impl Fn() -> Shutdown,
    ) -> Result<(), Failure> {
        for frontend in self.frontends {
            let addr = frontend.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
            tracing::info!("listening on https://{addr}");
            let frontend = frontend.with_upgrades(octotracker_http::UpgradeService::new(upgrades.clone()));
            let frontend: Box<dyn Frontend> = Box::new(frontend);
            tasks.spawn(frontend.serve(tracker.clone(), shutdown()));
        }
        tasks.spawn(crate::tls::reload_periodically(
            self.files,
            self.cert,
            self.reload_interval,
            self.check_now,
            shutdown(),
        ));
        Ok(())
    }
}
