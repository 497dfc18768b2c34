//! Transports: the [`Frontend`] trait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use crate::Tracker;

/// A future that resolves when a frontend should stop accepting work and drain.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Why a frontend stopped with an error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FrontendError(pub Box<dyn std::error::Error + Send + Sync>);

/// A transport (HTTP, UDP, …) that feeds requests to a [`Tracker`].
#[async_trait]
pub trait Frontend: Send + 'static {
    /// Serves `tracker` until `shutdown` resolves; then stops accepting, finishes the requests
    /// in flight and returns.
    async fn serve(self: Box<Self>, tracker: Arc<Tracker>, shutdown: Shutdown) -> Result<(), FrontendError>;
}
