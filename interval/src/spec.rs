//! [`IntervalSpec`]: the text form of an algorithm, as the binary's flag takes it.

use std::str::FromStr;

use octotracker_core::IntervalAlgorithm;

use crate::{
    Jitter, LoadAdaptive, LoadAdaptiveConfig, LoadAdaptiveError, Static, StaticError, SwarmScaled, SwarmScaledError,
    peer_timeout_for,
};

/// A parsed and checked interval spec; [`IntervalSpec::build`] makes the algorithm.
///
/// The grammar (whitespace around items is ignored, names and keys are lowercase):
///
/// ```text
/// spec     = ("static" | "swarm" | "load") ("," key "=" value)*
/// duration = digits ["s" | "m" | "h"]                   seconds unless suffixed: 90, 90s, 30m, 2h
///
/// static   interval=duration   `interval`                      default 45m
///          min=duration        `min interval`                  default min(10m, interval)
/// swarm    steps=table         see below                       default 100:30m/1000:1h/2h
///          min_ratio=number    `min interval` / `interval`     default 0.25
/// load     target=number       announces per second, > 0       required
///          min=duration        shortest `interval`             default min(5m, max)
///          max=duration        longest `interval`              default max(2h, min)
///          min_ratio=number    `min interval` / `interval`     default 0.25
///          window=duration     measurement window              default 1m
/// any      jitter=percent      ±percent, 0 to 50, `%` allowed  default 0
///
/// table    = (peers ":" duration "/")* duration
/// ```
///
/// A swarm `table` lists `PEERS:INTERVAL` steps by increasing peer count, each applying to swarms
/// of fewer than `PEERS` peers, and ends with the bare interval for every bigger swarm:
/// `steps=100:30m/1000:1h/2h` is 30 minutes under 100 peers, 1 hour under 1,000, else 2 hours.
///
/// Peer timeouts follow from the longest interval ([`peer_timeout_for`]), extended by the jitter:
/// `static` alone is exactly [`Static::default()`] (2700 s, 600 s, timeout 3000 s).
///
/// ```
/// use octotracker_interval::{IntervalSpec, parse};
/// let spec: IntervalSpec = "swarm,steps=50:10m/1h,jitter=10%".parse().unwrap();
/// assert_eq!(spec.jitter, 10);
/// let algorithm = parse("load, target=500, min=5m, max=2h").unwrap();
/// assert_eq!(algorithm.peer_timeout().as_secs(), 7200 + 720);
/// assert_eq!(
///     "static,intervall=60".parse::<IntervalSpec>().unwrap_err().to_string(),
///     "unknown parameter `intervall` for static (expected interval, min, jitter)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalSpec {
    /// The algorithm and its checked parameters.
    pub algorithm: AlgorithmSpec,
    /// Jitter, percent either way; 0 for none.
    pub jitter: u8,
}

/// The algorithm of an [`IntervalSpec`], its parameters checked.
#[derive(Debug, Clone, PartialEq)]
pub enum AlgorithmSpec {
    /// `static`.
    Static(Static),
    /// `swarm`.
    Swarm(SwarmScaled),
    /// `load`: a [`LoadAdaptive`] is built fresh (its measurements start empty).
    Load(LoadAdaptiveConfig),
}

/// Why an interval spec does not parse. Messages name the offending key and value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// Nothing but whitespace.
    #[error("empty interval spec (expected static, swarm or load)")]
    Empty,
    /// An algorithm name other than `static`, `swarm`, `load`.
    #[error("unknown interval algorithm `{0}` (expected static, swarm or load)")]
    UnknownAlgorithm(String),
    /// A parameter without `=`, or with an empty key.
    #[error("parameter `{0}` is not of the form key=value")]
    NotKeyValue(String),
    /// A key the algorithm does not take.
    #[error("unknown parameter `{key}` for {algorithm} (expected {})", .expected.join(", "))]
    UnknownKey {
        /// The algorithm.
        algorithm: &'static str,
        /// The key.
        key: String,
        /// The keys it takes.
        expected: &'static [&'static str],
    },
    /// A key given twice.
    #[error("parameter `{0}` is given twice")]
    DuplicateKey(String),
    /// A value that does not parse, or is out of range.
    #[error("invalid value `{value}` for `{key}`: {reason}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A required key left out.
    #[error("{algorithm} needs `{key}`")]
    MissingKey {
        /// The algorithm.
        algorithm: &'static str,
        /// The key.
        key: &'static str,
    },
    /// `static` parameters that contradict each other.
    #[error("invalid static parameters: {0}")]
    Static(#[from] StaticError),
    /// A `steps` table that is not usable.
    #[error("invalid `steps`: {0}")]
    Swarm(#[from] SwarmScaledError),
    /// `load` parameters that contradict each other.
    #[error("invalid load parameters: {0}")]
    Load(#[from] LoadAdaptiveError),
}

/// Parses `spec` and builds its algorithm (jitter randomly seeded).
pub fn parse(spec: &str) -> Result<Box<dyn IntervalAlgorithm>, SpecError> {
    Ok(spec.parse::<IntervalSpec>()?.build())
}

impl IntervalSpec {
    /// The algorithm, jitter randomly seeded.
    pub fn build(&self) -> Box<dyn IntervalAlgorithm> {
        self.build_seeded(None)
    }

    /// The algorithm; `Some(seed)` makes the jitter reproducible.
    pub fn build_seeded(&self, seed: Option<u64>) -> Box<dyn IntervalAlgorithm> {
        match &self.algorithm {
            AlgorithmSpec::Static(s) => self.jittered(*s, seed),
            AlgorithmSpec::Swarm(s) => self.jittered(s.clone(), seed),
            AlgorithmSpec::Load(c) => self.jittered(LoadAdaptive::new(*c).expect("checked when parsed"), seed),
        }
    }

    fn jittered<A: IntervalAlgorithm>(&self, inner: A, seed: Option<u64>) -> Box<dyn IntervalAlgorithm> {
        if self.jitter == 0 {
            return Box::new(inner);
        }
        let jitter = match seed {
            Some(seed) => Jitter::with_seed(inner, self.jitter, seed),
            None => Jitter::new(inner, self.jitter),
        };
        Box::new(jitter.expect("checked when parsed"))
    }
}

impl FromStr for IntervalSpec {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let mut items = spec.split(',').map(str::trim);
        let name = items.next().unwrap_or_default();
        let (algorithm, expected): (&'static str, &'static [&'static str]) = match name {
            "" if spec.trim().is_empty() => return Err(SpecError::Empty),
            "static" => ("static", &["interval", "min", "jitter"]),
            "swarm" => ("swarm", &["steps", "min_ratio", "jitter"]),
            "load" => ("load", &["target", "min", "max", "min_ratio", "window", "jitter"]),
            other => return Err(SpecError::UnknownAlgorithm(other.to_owned())),
        };
        let mut params = Params { pairs: Vec::new() };
        for item in items {
            let (key, value) = item.split_once('=').ok_or_else(|| SpecError::NotKeyValue(item.to_owned()))?;
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(SpecError::NotKeyValue(item.to_owned()));
            }
            if !expected.contains(&key) {
                return Err(SpecError::UnknownKey { algorithm, key: key.to_owned(), expected });
            }
            if params.pairs.iter().any(|&(k, _)| k == key) {
                return Err(SpecError::DuplicateKey(key.to_owned()));
            }
            params.pairs.push((key, value));
        }
        let jitter = params.get("jitter", parse_percent)?.unwrap_or(0);
        let algorithm = match algorithm {
            "static" => AlgorithmSpec::Static(static_spec(&params)?),
            "swarm" => AlgorithmSpec::Swarm(swarm_spec(&params)?),
            _ => AlgorithmSpec::Load(load_spec(&params)?),
        };
        Ok(IntervalSpec { algorithm, jitter })
    }
}

fn static_spec(params: &Params<'_>) -> Result<Static, SpecError> {
    let interval = params.get("interval", parse_duration)?.unwrap_or(Static::DEFAULT_INTERVAL);
    let min = params.get("min", parse_duration)?.unwrap_or(Static::DEFAULT_MIN_INTERVAL.min(interval));
    Ok(Static::new(interval, min, peer_timeout_for(interval))?)
}

fn swarm_spec(params: &Params<'_>) -> Result<SwarmScaled, SpecError> {
    let steps = params.get("steps", parse_steps)?.unwrap_or_else(|| SwarmScaled::DEFAULT_STEPS.to_vec());
    let min_ratio = params.get("min_ratio", parse_ratio)?.unwrap_or(SwarmScaled::DEFAULT_MIN_RATIO);
    Ok(SwarmScaled::with_min_ratio(&steps, min_ratio)?)
}

fn load_spec(params: &Params<'_>) -> Result<LoadAdaptiveConfig, SpecError> {
    let target = params.get("target", parse_rate)?.ok_or(SpecError::MissingKey { algorithm: "load", key: "target" })?;
    let min = params.get("min", parse_duration)?;
    let max = params.get("max", parse_duration)?;
    let max = max.unwrap_or(LoadAdaptiveConfig::DEFAULT_MAX.max(min.unwrap_or(0)));
    let min = min.unwrap_or(LoadAdaptiveConfig::DEFAULT_MIN.min(max));
    let mut config = LoadAdaptiveConfig::new(target).bounds(min, max);
    if let Some(ratio) = params.get("min_ratio", parse_ratio)? {
        config.min_ratio = ratio;
    }
    if let Some(window) = params.get("window", parse_duration)? {
        config.window = window;
    }
    LoadAdaptive::new(config)?;
    Ok(config)
}

/// The `key=value` pairs of a spec, each key at most once.
struct Params<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl Params<'_> {
    /// The value of `key` parsed by `parse`, whose error reason becomes an [`SpecError::InvalidValue`].
    fn get<T>(&self, key: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, SpecError> {
        let Some(&(_, value)) = self.pairs.iter().find(|&&(k, _)| k == key) else { return Ok(None) };
        parse(value).map(Some).map_err(|reason| SpecError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason,
        })
    }
}

/// Seconds, plain or with an `s`, `m` or `h` suffix.
fn parse_duration(value: &str) -> Result<u32, String> {
    let (digits, unit) = match value.as_bytes().last() {
        Some(b's') => (&value[..value.len() - 1], 1),
        Some(b'm') => (&value[..value.len() - 1], 60),
        Some(b'h') => (&value[..value.len() - 1], 3600),
        _ => (value, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected seconds, or a whole number with an s, m or h suffix".to_owned());
    }
    digits.parse::<u32>().ok().and_then(|n| n.checked_mul(unit)).ok_or_else(|| format!("at most {} seconds", u32::MAX))
}

/// A ratio within [0, 1].
fn parse_ratio(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err("expected a number from 0 to 1".to_owned()),
    }
}

/// A positive, finite rate.
fn parse_rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("expected a positive number of announces per second".to_owned()),
    }
}

/// A whole percentage, 0 to 50, with an optional `%`.
fn parse_percent(value: &str) -> Result<u8, String> {
    let digits = value.strip_suffix('%').unwrap_or(value).trim_end();
    match digits.parse::<u8>() {
        Ok(p) if p <= Jitter::<Static>::MAX_PERCENT && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err("expected a whole percentage from 0 to 50".to_owned()),
    }
}

/// `PEERS:DURATION/.../DURATION`.
fn parse_steps(value: &str) -> Result<Vec<(Option<u64>, u32)>, String> {
    let items: Vec<&str> = value.split('/').map(str::trim).collect();
    let last = items.len() - 1;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match (item.split_once(':'), index == last) {
            (Some((peers, interval)), false) => {
                let peers =
                    peers.trim().parse::<u64>().map_err(|_| format!("step `{item}`: `{peers}` is not a peer count"))?;
                let interval = parse_duration(interval.trim()).map_err(|e| format!("step `{item}`: {e}"))?;
                Ok((Some(peers), interval))
            }
            (None, false) => Err(format!("step `{item}`: expected PEERS:INTERVAL")),
            (Some(_), true) => Err(format!("last step `{item}`: expected a bare INTERVAL for every bigger swarm")),
            (None, true) => Ok((None, parse_duration(item).map_err(|e| format!("last step `{item}`: {e}"))?)),
        })
        .collect()
}
