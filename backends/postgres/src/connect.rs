//! Opening the pool: parse the URL, connect once (so that a wrong address or wrong credentials
//! fail at startup), create the schema if asked, apply the embedded migrations.

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::config::PostgresConfig;
use crate::error::{PostgresError, describe, redact};

/// The migrations in `backends/postgres/migrations`, embedded at build time.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects and migrates as `config` says.
pub(crate) async fn open_pool(config: &PostgresConfig) -> Result<PgPool, PostgresError> {
    let url = redact(&config.url);
    let invalid = |reason: String| PostgresError::InvalidUrl { url: url.clone(), reason };
    if !config.url.starts_with("postgres://") && !config.url.starts_with("postgresql://") {
        return Err(invalid("expected postgres://USER@HOST:PORT/DATABASE".into()));
    }
    if config.pool_size == 0 {
        return Err(invalid("the pool size must be at least 1".into()));
    }
    let mut options: PgConnectOptions = config.url.parse().map_err(|e: sqlx::Error| invalid(e.to_string()))?;
    let timeout_ms = config.statement_timeout.as_millis().to_string();
    let mut server_options = vec![("statement_timeout", timeout_ms)];
    if let Some(schema) = &config.schema {
        if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(invalid(format!("schema {schema:?}: use lowercase letters, digits and _")));
        }
        server_options.push(("search_path", schema.clone()));
    }
    options = options.options(server_options).application_name("octotracker");

    // One direct connection first: the pool would report an unreachable server as a pool
    // timeout, this names the cause (refused, unknown host, wrong password, no such database).
    let connect_error = |reason: String| PostgresError::Connect { url: url.clone(), reason };
    match tokio::time::timeout(config.acquire_timeout, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(e)) => return Err(connect_error(describe(&e))),
        Err(_) => return Err(connect_error(format!("no answer within {:?}", config.acquire_timeout))),
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.pool_size)
        .min_connections(0)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        // No ping before each use (one round trip per announce batch): a connection that broke
        // while idle fails its next statement as unavailable, and sqlx's ping when the
        // connection is released closes it.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| connect_error(describe(&e)))?;

    let migrate = |e: sqlx::Error| PostgresError::Migrate { url: url.clone(), reason: describe(&e) };
    if let Some(schema) = &config.schema {
        // Checked above: only [a-z0-9_], so quoting is enough.
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&pool).await.map_err(migrate)?;
    }
    MIGRATOR.run(&pool).await.map_err(|e| migrate(e.into()))?;
    Ok(pool)
}
