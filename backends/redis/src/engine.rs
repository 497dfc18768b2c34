//! Choosing the engine at connect: the `octotracker` Redis module (one native key per swarm,
//! `OCTO.*` commands) or the Lua scripts (nine keys per swarm). Every node must agree, and a
//! prefix already holding the other engine's swarms is refused: the two layouts never see each
//! other's data.

use octotracker_core::StorageError;
use redis::Value;

use crate::conn::Node;
use crate::keys::{family_prefix, swarm_pattern};
use crate::{RedisEngine, RedisTorrentManager};

/// The name the module registers (`MODULE LIST`).
pub(crate) const MODULE_NAME: &str = "octotracker";

/// Keys asked of each `SCAN` step while looking for the other engine's swarms.
const SCAN_COUNT: usize = 1000;

/// The engine in use, once chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// The Lua scripts.
    Lua,
    /// The module's commands.
    Module,
}

impl Engine {
    /// The other engine.
    fn other(self) -> Engine {
        match self {
            Engine::Lua => Engine::Module,
            Engine::Module => Engine::Lua,
        }
    }

    /// As configured.
    pub(crate) fn public(self) -> RedisEngine {
        match self {
            Engine::Lua => RedisEngine::Lua,
            Engine::Module => RedisEngine::Module,
        }
    }
}

/// Whether a `MODULE LIST` reply names the module.
fn lists_module(reply: &Value) -> bool {
    fn text(v: &Value) -> Option<&[u8]> {
        match v {
            Value::BulkString(b) => Some(b.as_slice()),
            Value::SimpleString(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
    let Value::Array(modules) = reply else { return false };
    modules.iter().any(|m| match m {
        Value::Array(fields) => fields
            .chunks_exact(2)
            .any(|kv| text(&kv[0]) == Some(b"name".as_slice()) && text(&kv[1]) == Some(MODULE_NAME.as_bytes())),
        Value::Map(fields) => {
            fields.iter().any(|(k, v)| text(k) == Some(b"name".as_slice()) && text(v) == Some(MODULE_NAME.as_bytes()))
        }
        _ => false,
    })
}

/// Whether `e` is a server's lasting refusal of `MODULE LIST` (not a transient state).
fn refuses_module_list(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    matches!(
        e.kind(),
        ErrorKind::Server(ServerErrorKind::ResponseError | ServerErrorKind::NoPerm) | ErrorKind::Extension
    )
}

/// How a node is named in messages.
fn node_name(node: &Node) -> String {
    match node {
        Node::Single => "the server".to_owned(),
        Node::Master { host, port } => format!("node {host}:{port}"),
    }
}

impl RedisTorrentManager {
    /// Chooses the engine for `requested`, checking every node, then refuses a prefix holding
    /// swarms of the other engine.
    pub(crate) async fn choose_engine(&self, requested: RedisEngine) -> Result<Engine, StorageError> {
        let engine = match requested {
            RedisEngine::Lua => Engine::Lua,
            RedisEngine::Module | RedisEngine::Auto => self.module_engine(requested).await?,
        };
        self.refuse_other_engines_swarms(engine).await?;
        Ok(engine)
    }

    /// `Module` when every node has the module; `Lua` under `auto` when none has it; an error
    /// naming the nodes without it otherwise.
    async fn module_engine(&self, requested: RedisEngine) -> Result<Engine, StorageError> {
        let nodes = self.bounded("listing the cluster's nodes", self.conn.nodes()).await?;
        let mut without = Vec::new();
        for node in &nodes {
            let mut cmd = redis::cmd("MODULE");
            cmd.arg("LIST");
            // A server that refuses MODULE LIST (a managed service may rename or forbid it:
            // `ERR unknown command`, `NOPERM`, its own error code) has no module for us; a
            // transient refusal (loading, cluster down) is an error like any other.
            let listed = match tokio::time::timeout(self.config.response_timeout, self.conn.on_node(node, cmd)).await {
                Ok(Ok(reply)) => lists_module(&reply),
                Ok(Err(e)) if refuses_module_list(&e) => false,
                Ok(Err(e)) => return Err(crate::error::storage_error(e)),
                Err(_) => return Err(crate::error::timed_out("MODULE LIST")),
            };
            if !listed {
                without.push(node_name(node));
            }
        }
        if without.is_empty() {
            return Ok(Engine::Module);
        }
        if requested == RedisEngine::Auto && without.len() == nodes.len() {
            return Ok(Engine::Lua);
        }
        Err(StorageError::Internal(format!(
            "redis engine {requested}: {} without the {MODULE_NAME} module (load it on every node: `loadmodule \
             /path/to/liboctotracker_redis_module.so` in redis.conf), or start with --redis-engine lua",
            without.join(", ")
        )))
    }

    /// Fails when the prefix holds swarms written by the other engine.
    async fn refuse_other_engines_swarms(&self, engine: Engine) -> Result<(), StorageError> {
        let other = engine.other();
        let patterns = [false, true].map(|webrtc| swarm_pattern(&family_prefix(&self.config.prefix, webrtc), other));
        let nodes = self.bounded("listing the cluster's nodes", self.conn.nodes()).await?;
        for (node, pattern) in nodes.iter().flat_map(|n| patterns.iter().map(move |p| (n, p))) {
            let mut cursor = 0_u64;
            loop {
                let mut cmd = redis::cmd("SCAN");
                cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
                let value = self.bounded("scan", self.conn.on_node(node, cmd)).await?;
                let (next, keys): (u64, Vec<Vec<u8>>) =
                    redis::from_redis_value(value).map_err(|_| crate::error::bad_reply("SCAN"))?;
                if let Some(key) = keys.first() {
                    return Err(StorageError::Internal(format!(
                        "redis prefix {:?} holds swarms of the {} engine (e.g. {} on {}), which the {} engine \
                         cannot read: start with --redis-engine {}, or use another --redis-prefix, or let those \
                         swarms expire (one peer timeout after their last announce) or delete them",
                        self.config.prefix,
                        other.public(),
                        String::from_utf8_lossy(key),
                        node_name(node),
                        engine.public(),
                        other.public(),
                    )));
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn module_list_replies_are_read_in_resp2_and_resp3() {
        let ours =
            Value::Array(vec![Value::Array(vec![bulk("name"), bulk("octotracker"), bulk("ver"), Value::Int(1)])]);
        assert!(lists_module(&ours));
        let other = Value::Array(vec![Value::Array(vec![bulk("name"), bulk("search"), bulk("ver"), Value::Int(1)])]);
        assert!(!lists_module(&other));
        assert!(!lists_module(&Value::Array(vec![])));
        let resp3 = Value::Array(vec![Value::Map(vec![(bulk("name"), bulk("octotracker"))])]);
        assert!(lists_module(&resp3));
        // A module named like ours in another field does not count.
        let sneaky = Value::Array(vec![Value::Array(vec![bulk("path"), bulk("octotracker")])]);
        assert!(!lists_module(&sneaky));
    }
}
