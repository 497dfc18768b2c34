//! # octotracker-config
//!
//! What an operator can tell the `octotracker` server, as data: no file, flag or environment
//! variable is read here (the binary does that and lays them over each other).
//!
//! - [`config`]: the [`Config`] tree (`[http]`, `[tracker]`, `[interval]`, `[storage]`,
//!   `[access]`, `[udp]`, `[metrics]`, `[log]`), its defaults, [`Config::from_toml`] (unknown keys
//!   are errors naming the key), and [`TEMPLATE`], the commented default file that
//!   `octotracker --print-config` prints.
//! - [`settings`]: [`Settings::from_config`] checks a `Config` and turns it into each component's
//!   typed settings (listen addresses, `HttpConfig`, `TrackerConfig`, the interval algorithm, the
//!   backend, access control); every mistake becomes one message for the operator.
//!
//! Embedders can use it to configure a tracker from the same TOML the binary reads:
//!
//! ```
//! use octotracker_config::{Config, Settings};
//! let config = Config::from_toml("[tracker]\nnumwant_max = 80\n[storage]\nbackend = \"memory\"\n").unwrap();
//! let settings = Settings::from_config(&config).unwrap();
//! assert_eq!(settings.tracker.numwant_max, 80);
//!
//! let mistake = Config::from_toml("[tracker]\nnumwant_maximum = 3\n").unwrap_err();
//! assert!(mistake.contains("numwant_maximum"));
//! ```

pub mod config;
pub mod settings;

pub use config::{Config, TEMPLATE};
pub use settings::{AccessSettings, Backend, DEFAULT_LISTEN, EventStream, PasskeySource, Settings};
