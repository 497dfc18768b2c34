//! Choosing the engine at connect: the `octotracker` Redis module (one native key per swarm,
//! `OCTO.*` commands) or the Lua scripts (nine keys per swarm). Every node must agree, and a
//! prefix already holding the other engine's swarms is refused: the two layouts never see each
//! other's data.

use octotracker_core::StorageError;
use redis::Value;

use crate::conn::Node;
use crate::keys::{OLD_LAYOUTS, swarm_pattern};
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

/// The module version this backend speaks to (`OCTO.ANNOUNCE key address peer-id numbers`, one
/// key per swarm with every family: the module's `redis_module!` version).
pub(crate) const MODULE_VERSION: i64 = 2;

/// The version of the module in a `MODULE LIST` reply, `None` when it is not listed.
fn listed_version(reply: &Value) -> Option<i64> {
    fn text(v: &Value) -> Option<&[u8]> {
        match v {
            Value::BulkString(b) => Some(b.as_slice()),
            Value::SimpleString(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
    fn version(pairs: &mut dyn Iterator<Item = (&Value, &Value)>) -> Option<i64> {
        let (mut ours, mut ver) = (false, 0);
        for (k, v) in pairs {
            match text(k) {
                Some(b"name") => ours = text(v) == Some(MODULE_NAME.as_bytes()),
                Some(b"ver") => ver = if let Value::Int(x) = v { *x } else { 0 },
                _ => {}
            }
        }
        ours.then_some(ver)
    }
    let Value::Array(modules) = reply else { return None };
    modules.iter().find_map(|m| match m {
        Value::Array(fields) => version(&mut fields.chunks_exact(2).map(|kv| (&kv[0], &kv[1]))),
        Value::Map(fields) => version(&mut fields.iter().map(|(k, v)| (k, v))),
        _ => None,
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
                Ok(Ok(reply)) => listed_version(&reply),
                Ok(Err(e)) if refuses_module_list(&e) => None,
                Ok(Err(e)) => return Err(crate::error::storage_error(e)),
                Err(_) => return Err(crate::error::timed_out("MODULE LIST")),
            };
            match listed {
                None => without.push(node_name(node)),
                Some(v) if v < MODULE_VERSION => {
                    return Err(StorageError::Internal(format!(
                        "the {MODULE_NAME} module on {} is version {v}; this octotracker needs version \
                         {MODULE_VERSION}: load the module built with it (liboctotracker_redis_module.so) and restart \
                         that node, or start with --redis-engine lua",
                        node_name(node)
                    )));
                }
                Some(_) => {}
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

    /// Fails when the prefix holds swarms written by the other engine or by an older layout.
    async fn refuse_other_engines_swarms(&self, engine: Engine) -> Result<(), StorageError> {
        let prefix = &self.config.prefix;
        let other = engine.other();
        let mut patterns = vec![(swarm_pattern(prefix, other), None)];
        patterns.extend(
            OLD_LAYOUTS
                .iter()
                .map(|(p, all, what)| (format!("{prefix}:{p}"), Some((format!("{prefix}:{all}"), *what)))),
        );
        let nodes = self.bounded("listing the cluster's nodes", self.conn.nodes()).await?;
        for (node, (pattern, old)) in nodes.iter().flat_map(|n| patterns.iter().map(move |p| (n, p))) {
            let Some(key) = self.first_key(node, pattern).await? else { continue };
            let key = String::from_utf8_lossy(&key);
            let node = node_name(node);
            return Err(StorageError::Internal(match old {
                None => format!(
                    "redis prefix {prefix:?} holds swarms of the {} engine (e.g. {key} on {node}), which the {} engine \
                     cannot read: start with --redis-engine {}, or use another --redis-prefix, or let those \
                     swarms expire (one peer timeout after their last announce) or delete them",
                    other.public(),
                    engine.public(),
                    other.public(),
                ),
                Some((all, what)) => format!(
                    "redis prefix {prefix:?} holds {what} written by an older octotracker (e.g. {key} on {node}), \
                     which this one does not read: stop the older trackers, then let those keys expire (one peer \
                     timeout plus a minute after their last announce) or delete them (`redis-cli --scan --pattern \
                     '{all}'` and DEL, on every node); or use another --redis-prefix. Peers re-announce within \
                     one interval"
                ),
            }));
        }
        Ok(())
    }

    /// The first key matching `pattern` on `node`, if any (a whole `SCAN` walk at worst).
    async fn first_key(&self, node: &Node, pattern: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let mut cursor = 0_u64;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
            let value = self.bounded("scan", self.conn.on_node(node, cmd)).await?;
            let (next, mut keys): (u64, Vec<Vec<u8>>) =
                redis::from_redis_value(value).map_err(|_| crate::error::bad_reply("SCAN"))?;
            if !keys.is_empty() {
                return Ok(Some(keys.swap_remove(0)));
            }
            if next == 0 {
                return Ok(None);
            }
            cursor = next;
        }
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
        assert_eq!(listed_version(&ours), Some(1));
        let lists_module = |r: &Value| listed_version(r).is_some();
        let other = Value::Array(vec![Value::Array(vec![bulk("name"), bulk("search"), bulk("ver"), Value::Int(1)])]);
        assert!(!lists_module(&other));
        assert!(!lists_module(&Value::Array(vec![])));
        let resp3 =
            Value::Array(vec![Value::Map(vec![(bulk("name"), bulk("octotracker")), (bulk("ver"), Value::Int(2))])]);
        assert_eq!(listed_version(&resp3), Some(2));
        // A module named like ours in another field does not count.
        let sneaky = Value::Array(vec![Value::Array(vec![bulk("path"), bulk("octotracker")])]);
        assert!(!lists_module(&sneaky));
    }
}
