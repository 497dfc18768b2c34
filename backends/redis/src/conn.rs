//! One connection type for a standalone Redis and a Redis Cluster: both are multiplexed,
//! cloneable and reconnect by themselves, so the backend code is shared.

use std::fmt;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use crate::{RedisConfig, RedisTarget};

/// A connection to the standalone server or to the whole cluster.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Conn::Single(_) => "Conn::Single",
            Conn::Cluster(_) => "Conn::Cluster",
        })
    }
}

/// One server to run a per-node command on (`SCAN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// The standalone server.
    Single,
    /// A cluster master.
    Master { host: String, port: u16 },
}

impl Conn {
    /// Connects, failing when the server (or no node of the cluster) answers.
    pub(crate) async fn open(target: &RedisTarget, config: &RedisConfig) -> RedisResult<Conn> {
        match target {
            RedisTarget::Standalone(url) => {
                let client = redis::Client::open(url.as_str())?;
                let manager_config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(config.connect_timeout))
                    .set_response_timeout(Some(config.response_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(config.connect_timeout);
                Ok(Conn::Single(ConnectionManager::new_with_config(client, manager_config).await?))
            }
            RedisTarget::Cluster(urls) => {
                let client = ClusterClientBuilder::new(urls.iter().map(String::as_str))
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(config.response_timeout)
                    .overall_response_timeout(Some(config.response_timeout))
                    .retries(2)
                    .min_retry_wait(10)
                    .max_retry_wait(200)
                    .build()?;
                Ok(Conn::Cluster(client.get_async_connection().await?))
            }
        }
    }

    /// Whether this is a cluster (whose multi-key commands must stay within one slot).
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }

    /// The servers holding data: the standalone one, or every cluster master (from `CLUSTER SLOTS`).
    pub(crate) async fn nodes(&self) -> RedisResult<Vec<Node>> {
        let Conn::Cluster(c) = self else { return Ok(vec![Node::Single]) };
        let slots = c
            .clone()
            .route_command(
                redis::cmd("CLUSTER").arg("SLOTS").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            )
            .await?;
        let mut nodes = Vec::new();
        // Each range: [start, end, [host, port, id, …] (the master), replicas…].
        for range in as_array(&slots) {
            let master = as_array(as_array(range).get(2).unwrap_or(&Value::Nil));
            let host = match master.first() {
                Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
                Some(Value::SimpleString(s)) => s.clone(),
                _ => continue,
            };
            let Some(Value::Int(port)) = master.get(1) else { continue };
            let node = Node::Master { host, port: u16::try_from(*port).unwrap_or(0) };
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
        Ok(nodes)
    }

    /// Runs `cmd` on `node`.
    pub(crate) async fn on_node(&self, node: &Node, cmd: Cmd) -> RedisResult<Value> {
        match (self, node) {
            (Conn::Cluster(c), Node::Master { host, port }) => {
                let route = SingleNodeRoutingInfo::ByAddress { host: host.clone(), port: *port };
                c.clone().route_command(cmd, RoutingInfo::SingleNode(route)).await
            }
            (conn, _) => cmd.query_async(&mut conn.clone()).await,
        }
    }
}

/// The items of an array reply (none for anything else).
fn as_array(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        _ => &[],
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}
