//! [`Lifecycle`]: what a simulated peer announces next — `started`, regular announces,
//! `completed` (leechers, at most once a session), `stopped` (or, for a share of sessions, no
//! goodbye at all: the peer vanishes and the tracker must expire it), then a new session.

use fastrand::Rng;
use octotracker_core::Event;

/// The size every simulated torrent has, bytes.
pub const TORRENT_SIZE: u64 = 1 << 30;

/// How sessions unfold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecycleConfig {
    /// Share of sessions that start as seeders (`left=0`), `0.0..=1.0`.
    pub seeders: f64,
    /// Probability that a leecher's session includes `completed`, `0.0..=1.0`.
    pub complete_probability: f64,
    /// Mean number of regular announces between `started` and `stopped` (at least 1); each
    /// session draws its length uniformly from `1..=2·mean − 1`.
    pub session_announces: u32,
    /// Share of sessions that end without `stopped`, `0.0..=1.0`: the peer falls silent (as a
    /// client that crashes or loses its network does) and the slot's next announce is already
    /// the `started` of a new session, a new peer (new peer id, and a new address when sent as
    /// `ip`, see [`SimPeer::session_ip`](super::SimPeer::session_ip)). The tracker only forgets
    /// the silent one when it expires.
    pub vanish_probability: f64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig { seeders: 0.3, complete_probability: 0.5, session_announces: 10, vanish_probability: 0.0 }
    }
}

/// The announce a peer sends next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The event.
    pub event: Event,
    /// The session's number, which names the peer id (see [`peer_id`](super::peer_id)).
    pub generation: u16,
    /// `left`, bytes.
    pub left: u64,
    /// `downloaded`, bytes.
    pub downloaded: u64,
    /// `uploaded`, bytes.
    pub uploaded: u64,
}

/// One peer slot's state. Starts offline: its first announce is `started`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifecycle {
    generation: u16,
    online: bool,
    joined_as_leecher: bool,
    /// Regular announces sent this session.
    announces: u32,
    /// Regular announces before `stopped`.
    session_len: u32,
    /// The regular announce replaced by `completed`; 0 for none.
    complete_at: u32,
    left: u64,
    uploaded: u64,
}

impl Lifecycle {
    /// An offline peer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the peer is in a session (has sent `started` and not yet `stopped`).
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Whether the peer is a seeder now.
    pub fn is_seeder(&self) -> bool {
        self.online && self.left == 0
    }

    /// Advances the state and returns the announce to send.
    pub fn next(&mut self, config: &LifecycleConfig, rng: &mut Rng) -> Step {
        if !self.online {
            return self.join(config, rng);
        }
        self.announces += 1;
        if self.announces > self.session_len && self.vanishes(config, rng) {
            self.generation = self.generation.wrapping_add(1);
            return self.join(config, rng);
        }
        self.uploaded += if self.left == 0 { 4 << 20 } else { 1 << 20 };
        let event = if self.announces > self.session_len {
            Event::Stopped
        } else if self.announces == self.complete_at {
            self.left = 0;
            Event::Completed
        } else {
            if self.left > 0 {
                // Progress without finishing: a leecher whose session has no `completed` ends
                // it still a leecher.
                let step = TORRENT_SIZE / (u64::from(self.session_len) + 2);
                self.left = self.left.saturating_sub(step).max(1);
            }
            Event::None
        };
        let step = self.step(event);
        if event == Event::Stopped {
            self.online = false;
            self.generation = self.generation.wrapping_add(1);
        }
        step
    }

    /// Whether the session ending now ends silently (no random draw when vanishing is off, so
    /// that runs without it keep their sequences).
    fn vanishes(&self, config: &LifecycleConfig, rng: &mut Rng) -> bool {
        config.vanish_probability > 0.0 && rng.f64() < config.vanish_probability
    }

    fn join(&mut self, config: &LifecycleConfig, rng: &mut Rng) -> Step {
        let seeder = rng.f64() < config.seeders;
        let mean = config.session_announces.max(1);
        let session_len = rng.u32(1..=2 * mean - 1);
        let complete_at = if !seeder && rng.f64() < config.complete_probability { rng.u32(1..=session_len) } else { 0 };
        *self = Lifecycle {
            generation: self.generation,
            online: true,
            joined_as_leecher: !seeder,
            announces: 0,
            session_len,
            complete_at,
            left: if seeder { 0 } else { TORRENT_SIZE },
            uploaded: 0,
        };
        self.step(Event::Started)
    }

    fn step(&self, event: Event) -> Step {
        let downloaded = if self.joined_as_leecher { TORRENT_SIZE - self.left } else { 0 };
        Step { event, generation: self.generation, left: self.left, downloaded, uploaded: self.uploaded }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one peer for `announces` steps.
    fn run(config: LifecycleConfig, seed: u64, announces: usize) -> Vec<Step> {
        let mut rng = Rng::with_seed(seed);
        let mut peer = Lifecycle::new();
        (0..announces).map(|_| peer.next(&config, &mut rng)).collect()
    }

    /// Splits a run into sessions, each from its `started` to its `stopped` (the last may be open).
    fn sessions(steps: &[Step]) -> Vec<&[Step]> {
        let mut out = Vec::new();
        let mut begin = 0;
        for (i, s) in steps.iter().enumerate() {
            if s.event == Event::Stopped {
                out.push(&steps[begin..=i]);
                begin = i + 1;
            }
        }
        if begin < steps.len() {
            out.push(&steps[begin..]);
        }
        out
    }

    #[test]
    fn the_first_announce_of_every_session_is_started() {
        let steps = run(LifecycleConfig::default(), 1, 5000);
        let sessions = sessions(&steps);
        assert!(sessions.len() > 100);
        for s in &sessions {
            assert_eq!(s[0].event, Event::Started);
            assert!(s[1..].iter().all(|x| x.event != Event::Started), "started twice in {s:?}");
        }
    }

    #[test]
    fn completed_comes_only_from_leechers_and_at_most_once_a_session() {
        let config =
            LifecycleConfig { seeders: 0.3, complete_probability: 0.7, session_announces: 4, ..Default::default() };
        let steps = run(config, 2, 20_000);
        let mut completions = 0;
        for s in sessions(&steps) {
            let completed: Vec<_> = s.iter().filter(|x| x.event == Event::Completed).collect();
            assert!(completed.len() <= 1, "completed twice in {s:?}");
            if let Some(c) = completed.first() {
                completions += 1;
                assert!(s[0].left > 0, "a seeder completed: {s:?}");
                assert_eq!(c.left, 0);
                assert_eq!(c.downloaded, TORRENT_SIZE);
            }
            // Once left reaches 0 it stays there: a seeder for the rest of the session.
            let first_zero = s.iter().position(|x| x.left == 0).unwrap_or(s.len());
            assert!(s[first_zero..].iter().all(|x| x.left == 0));
        }
        assert!(completions > 100);
    }

    #[test]
    fn a_leecher_without_completed_never_reports_left_zero() {
        let config =
            LifecycleConfig { seeders: 0.0, complete_probability: 0.0, session_announces: 8, ..Default::default() };
        let steps = run(config, 3, 2000);
        assert!(steps.iter().all(|s| s.left > 0 && s.event != Event::Completed));
    }

    #[test]
    fn a_stopped_peer_rejoins_as_a_new_peer_with_started() {
        let steps = run(LifecycleConfig::default(), 4, 2000);
        for pair in steps.windows(2) {
            if pair[0].event == Event::Stopped {
                assert_eq!(pair[1].event, Event::Started);
                assert_eq!(pair[1].generation, pair[0].generation.wrapping_add(1), "a new peer id");
            } else {
                assert_eq!(pair[1].generation, pair[0].generation, "the same peer within a session");
            }
        }
    }

    #[test]
    fn the_seeder_share_and_session_length_follow_the_config() {
        let config =
            LifecycleConfig { seeders: 0.3, complete_probability: 0.5, session_announces: 10, ..Default::default() };
        let steps = run(config, 5, 200_000);
        let sessions = sessions(&steps);
        let seeders = sessions.iter().filter(|s| s[0].left == 0).count() as f64 / sessions.len() as f64;
        assert!((seeders - 0.3).abs() < 0.03, "seeder share {seeders}");
        // started + mean 10 regular + stopped = 12 announces a session on average.
        let mean_len = steps.len() as f64 / sessions.len() as f64;
        assert!((mean_len - 12.0).abs() < 0.5, "mean session {mean_len}");
    }

    #[test]
    fn seeders_and_leechers_only_mixes() {
        let all_seeders = LifecycleConfig { seeders: 1.0, ..LifecycleConfig::default() };
        assert!(run(all_seeders, 6, 500).iter().all(|s| s.left == 0 && s.event != Event::Completed));
        let all_leechers = LifecycleConfig { seeders: 0.0, ..LifecycleConfig::default() };
        assert!(sessions(&run(all_leechers, 7, 500)).iter().all(|s| s[0].left == TORRENT_SIZE));
    }

    #[test]
    fn vanishing_sessions_end_without_stopped_and_rejoin_as_a_new_peer() {
        let all = LifecycleConfig { vanish_probability: 1.0, ..LifecycleConfig::default() };
        let steps = run(all, 8, 5000);
        assert!(steps.iter().all(|s| s.event != Event::Stopped), "a vanishing peer said goodbye");
        let starts: Vec<_> = steps.iter().filter(|s| s.event == Event::Started).collect();
        assert!(starts.len() > 300, "{} sessions", starts.len());
        for pair in steps.windows(2) {
            if pair[1].event == Event::Started {
                assert_eq!(pair[1].generation, pair[0].generation.wrapping_add(1), "a new peer id");
            } else {
                assert_eq!(pair[1].generation, pair[0].generation, "the same peer within a session");
            }
        }

        // Half of them: about as many sessions end with `stopped` as without.
        let half = LifecycleConfig { vanish_probability: 0.5, ..LifecycleConfig::default() };
        let steps = run(half, 9, 100_000);
        let sessions = steps.iter().filter(|s| s.event == Event::Started).count() as f64;
        let stopped = steps.iter().filter(|s| s.event == Event::Stopped).count() as f64;
        assert!((stopped / sessions - 0.5).abs() < 0.05, "stopped share {}", stopped / sessions);
    }
}
