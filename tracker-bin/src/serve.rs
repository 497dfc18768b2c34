//! `octotracker serve`: wire the backend, the engine and the listeners, run until SIGINT or
//! SIGTERM, then drain. SIGHUP re-reads the access lists and passkeys and checks the TLS
//! certificate files at once (`systemctl reload`); without either it is logged and changes
//! nothing.

use std::sync::Arc;

use octotracker_core::{AccessList, Frontend, IntervalAlgorithm, Shutdown, SystemClock, Tracker};
use octotracker_http::HttpFrontend;
use octotracker_metrics::prometheus_client::registry::Registry;
use octotracker_metrics::{StatusSource, TrackerMetrics};
use tokio::sync::{Notify, watch};

use crate::Failure;
use crate::listen::bind_tcp;
use crate::metrics_endpoint::MetricsEndpoint;
use crate::settings::Settings;

/// Serves until a shutdown signal. Everything that can fail because of the operator's input
/// fails before the first listener accepts.
pub(crate) async fn serve(settings: Settings) -> Result<(), Failure> {
    // Watch the signals before the first "listening on" line: a supervisor (or a test) may send
    // SIGTERM as soon as it reads that line, and an unwatched SIGTERM kills the process at once.
    let mut signals = Signals::watch()?;
    let mut frontends = Vec::new();
    for addr in &settings.listen {
        let std_listener = bind_tcp(*addr).map_err(|e| Failure::Usage(format!("cannot listen on {addr}: {e}")))?;
        let listener = tokio::net::TcpListener::from_std(std_listener)
            .map_err(|e| Failure::Runtime(format!("cannot listen on {addr}: {e}")))?;
        frontends.push(HttpFrontend::new(listener, settings.http.clone()));
    }

    let mut udp_frontends = Vec::new();
    for addr in &settings.udp {
        let std_socket = octotracker_udp::bind_socket(*addr, &settings.udp_config)
            .map_err(|e| Failure::Usage(format!("cannot listen on udp://{addr}: {e}")))?;
        let socket = tokio::net::UdpSocket::from_std(std_socket)
            .map_err(|e| Failure::Runtime(format!("cannot listen on udp://{addr}: {e}")))?;
        udp_frontends.push(octotracker_udp::UdpFrontend::new(socket, settings.udp_config.clone()));
    }

    let mut ws_frontends = Vec::new();
    for addr in &settings.ws {
        let std_listener = bind_tcp(*addr).map_err(|e| Failure::Usage(format!("cannot listen on ws://{addr}: {e}")))?;
        let listener = tokio::net::TcpListener::from_std(std_listener)
            .map_err(|e| Failure::Runtime(format!("cannot listen on ws://{addr}: {e}")))?;
        ws_frontends.push(
            octotracker_ws::WsFrontend::new(listener, settings.ws_config.clone())
                .with_trusted_proxies(settings.http.trusted_proxies.clone()),
        );
    }

    let https = crate::https::Https::bind(&settings)?;

    let metrics_listener = match settings.metrics {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Failure::Usage(format!("cannot serve metrics on {addr}: {e}")))?,
        ),
        None => None,
    };

    let admin = match &settings.admin {
        Some(admin) => {
            let token = crate::admin_endpoint::read_token(&admin.token_file)?;
            let listener = tokio::net::TcpListener::bind(admin.listen)
                .await
                .map_err(|e| Failure::Usage(format!("cannot serve the admin API on {}: {e}", admin.listen)))?;
            Some((listener, token))
        }
        None => None,
    };

    if let Some(dir) = &settings.access.ignored_torrents {
        let mode = settings.access.mode.as_str();
        tracing::warn!("the torrents directory {} changes nothing in {mode} mode (use --access allow)", dir.display());
    }
    let access_files = if settings.access.restricts() {
        Some(crate::access_files::AccessFiles::load(&settings.access).map_err(Failure::Usage)?)
    } else {
        None
    };

    let storage = crate::backend::open(&settings.backend).await?;
    // Every listener serves WebSocket peers (`--ws` ones, and upgrades on the HTTP ones): one
    // registry of connected peers, shared with the other processes on a Redis backend. After
    // the backend: an unreachable Redis is reported as the backend's failure.
    let ws_peers = ws_peers(&settings).await?;
    let intervals: Arc<dyn IntervalAlgorithm> = Arc::from(settings.intervals.build());
    let mut tracker = Tracker::new(settings.tracker.clone(), storage, intervals, Arc::new(SystemClock));
    let mut access = None;
    if let Some(mut files) = access_files {
        files.refresh_backend_passkeys(tracker.storage().as_ref()).await.map_err(Failure::Usage)?;
        files.refresh_backend_lists(tracker.storage().as_ref()).await.map_err(Failure::Usage)?;
        let list = Arc::new(AccessList::new(files.policy()));
        tracker = tracker.with_access(list.clone());
        access = Some((list, files));
    }
    // A private tracker on a backend that keeps per-key transfer totals (PostgreSQL).
    let transfer_writer = match settings.access.passkeys {
        Some(_) => crate::transfers::subscribe(&tracker).await,
        None => None,
    };
    let event_stream = match (&settings.event_stream, &settings.backend) {
        (Some(stream), crate::settings::Backend::Redis { target, .. }) => {
            Some(crate::event_stream::connect(&tracker, target, stream).await?)
        }
        _ => None,
    };
    let mut metrics = None;
    if metrics_listener.is_some() {
        let mut registry = Registry::default();
        let observer = Arc::new(TrackerMetrics::register(&mut registry));
        tracker = tracker.with_observer(observer.clone());
        metrics = Some((registry, observer));
    }
    let tracker = Arc::new(tracker);

    let (stop_tx, stop_rx) = watch::channel(false);
    let reload_now = Arc::new(Notify::new());
    let reloads = access.is_some();
    let mut tasks = tokio::task::JoinSet::new();
    // WebSocket upgrades on the HTTP and HTTPS listeners (as the npm bittorrent-tracker server
    // answers them on its one port; wss:// on the HTTPS ones): one WsService for all of them,
    // drained at shutdown like a --ws listener.
    let upgrades = octotracker_ws::WsService::with_peers(tracker.clone(), settings.ws_config.clone(), ws_peers.clone())
        .with_trusted_proxies(settings.http.trusted_proxies.clone());
    for frontend in frontends {
        let addr = frontend.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
        tracing::info!("listening on http://{addr}");
        let frontend = frontend.with_upgrades(octotracker_http::UpgradeService::new(upgrades.clone()));
        let frontend: Box<dyn Frontend> = Box::new(frontend);
        tasks.spawn(frontend.serve(tracker.clone(), stopped(stop_rx.clone())));
    }
    let check_tls_now = https.as_ref().map(|https| https.check_now.clone());
    if let Some(https) = https {
        https.spawn(&mut tasks, &tracker, &upgrades, || stopped(stop_rx.clone()))?;
    }
    for frontend in udp_frontends {
        let addr = frontend.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
        tracing::info!("listening on udp://{addr}");
        let frontend: Box<dyn Frontend> = Box::new(frontend);
        tasks.spawn(frontend.serve(tracker.clone(), stopped(stop_rx.clone())));
    }
    for frontend in ws_frontends {
        let addr = frontend.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
        tracing::info!("listening on ws://{addr}");
        let frontend: Box<dyn Frontend> = Box::new(frontend.with_peers(ws_peers.clone()));
        tasks.spawn(frontend.serve(tracker.clone(), stopped(stop_rx.clone())));
    }
    if let (Some(listener), Some((registry, observer))) = (metrics_listener, metrics) {
        let addr = listener.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
        tracing::info!("metrics on http://{addr}/metrics and http://{addr}/stats, status page on http://{addr}/");
        let status = StatusSource::new(
            tracker.clone(),
            observer.clone(),
            crate::backend::name(&settings.backend),
            env!("CARGO_PKG_VERSION"),
        );
        let endpoint = Arc::new(MetricsEndpoint { registry, metrics: observer, tracker: tracker.clone(), status });
        tasks.spawn(crate::metrics_endpoint::serve(listener, endpoint, stopped(stop_rx.clone())));
    }
    if let Some((listener, token)) = admin {
        let addr = listener.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
        tracing::info!("admin API on http://{addr}/v1/");
        let api = crate::admin_endpoint::api(tracker.storage().clone(), &token, &settings.access);
        let respond = move |req| {
            let api = api.clone();
            async move { api.respond(req).await }
        };
        tasks.spawn(crate::side_listener::serve(listener, "admin API", respond, stopped(stop_rx.clone())));
    }
    if let Some((list, files)) = access {
        let policy = list.policy();
        tracing::info!(
            mode = policy.mode.as_str(),
            registered = policy.registered.len(),
            allowed = policy.allowed.len(),
            denied = policy.denied.len(),
            private = policy.passkeys.is_some(),
            "access control on"
        );
        let storage = tracker.storage().clone();
        tasks.spawn(crate::access_files::reload_periodically(
            list,
            files,
            storage,
            reload_now.clone(),
            stopped(stop_rx.clone()),
        ));
    }
    if let Some(writer) = transfer_writer {
        tracing::info!("recording per-passkey transfer totals");
        tasks.spawn(writer.run(stopped(stop_rx.clone())));
    }
    if let Some((sink, events)) = event_stream {
        tasks.spawn(crate::event_stream::run(sink, events, stopped(stop_rx.clone())));
    }
    tasks.spawn(expire_periodically(tracker.clone(), settings.expiry_interval, stopped(stop_rx.clone())));
    let upgrades_stop = stopped(stop_rx.clone());
    tasks.spawn(async move {
        upgrades_stop.await;
        upgrades.drain().await;
        Ok(())
    });

    while let Signal::Reload = signals.recv().await {
        if let Some(check) = &check_tls_now {
            tracing::info!("SIGHUP: checking the TLS certificate files");
            check.notify_one();
        }
        if reloads {
            tracing::info!("SIGHUP: reloading the access lists");
            reload_now.notify_one();
        } else if check_tls_now.is_none() {
            tracing::info!("SIGHUP: nothing to reload (no access lists)");
        }
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let mut failed = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed = Some(e.to_string()),
            Err(e) => failed = Some(e.to_string()),
        }
    }
    match failed {
        Some(e) => Err(Failure::Runtime(format!("a listener failed: {e}"))),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// The WebSocket peers of this process, shared by every `--ws` listener; with a Redis backend
/// (one server or a cluster), shared with the other processes on it too (offers and answers
/// cross processes).
async fn ws_peers(settings: &Settings) -> Result<Arc<octotracker_ws::Peers>, Failure> {
    use crate::settings::Backend;
    use octotracker_redis::RedisTarget;
    let Backend::Redis { target, prefix, .. } = &settings.backend else {
        return Ok(Arc::new(octotracker_ws::Peers::new(None)));
    };
    // A directory entry outlives two intervals of its peer's announces.
    let ttl = std::time::Duration::from_secs(2 * u64::from(settings.ws_config.max_interval) + 60);
    let (peers, what) = match target {
        RedisTarget::Standalone(url) => (octotracker_ws::RedisRelay::start(url, prefix, ttl).await, url.clone()),
        RedisTarget::Cluster(urls) => (
            octotracker_ws::RedisRelay::start_cluster(urls, prefix, ttl).await,
            format!("the cluster at {}", urls.join(",")),
        ),
    };
    let peers = peers.map_err(|e| Failure::Runtime(format!("cannot start the WebSocket relay on {what}: {e}")))?;
    tracing::info!("WebSocket offers and answers relayed between processes through {what}");
    Ok(peers)
}

/// A [`Shutdown`] future that resolves when the watch flips to `true` (or its sender is gone).
fn stopped(mut rx: watch::Receiver<bool>) -> Shutdown {
    Box::pin(async move {
        let _ = rx.wait_for(|stop| *stop).await;
    })
}

async fn expire_periodically(
    tracker: Arc<Tracker>,
    every: std::time::Duration,
    mut shutdown: Shutdown,
) -> Result<(), octotracker_core::FrontendError> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => match tracker.expire().await {
                Ok(report) => tracing::debug!(peers = report.peers_removed, swarms = report.swarms_removed, "expired"),
                Err(e) => tracing::warn!(error = %e, "expiry failed"),
            },
            () = &mut shutdown => return Ok(()),
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, watched from the moment this is created.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

/// What a signal asks for.
enum Signal {
    /// SIGINT or SIGTERM: drain and stop.
    Stop,
    /// SIGHUP: re-read what can be re-read.
    Reload,
}

impl Signals {
    fn watch() -> Result<Self, Failure> {
        use tokio::signal::unix::{SignalKind, signal};
        let watch_one = |kind, name| signal(kind).map_err(|e| Failure::Runtime(format!("cannot watch {name}: {e}")));
        Ok(Signals {
            int: watch_one(SignalKind::interrupt(), "SIGINT")?,
            term: watch_one(SignalKind::terminate(), "SIGTERM")?,
            hup: watch_one(SignalKind::hangup(), "SIGHUP")?,
        })
    }

    /// The next signal.
    async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Stop,
            _ = self.term.recv() => Signal::Stop,
            _ = self.hup.recv() => Signal::Reload,
        }
    }
}
