//! Idle connections kept for the next stream to the same host.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::io::Io;

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// A few idle connections, the oldest dropped first. Load balancers close
/// idle connections after about a minute; ours are dropped sooner, so a
/// request rarely meets one closed under it.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    idle: Mutex<Vec<Idle>>,
}

#[derive(Debug)]
struct Idle {
    key: Key,
    io: Io,
    since: Instant,
}

const MAX_IDLE: usize = 8;
const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

impl Pool {
    /// The most recently returned open connection to `key`, if any.
    pub fn take(&self, key: &Key) -> Option<Io> {
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        idle.retain(|c| c.since.elapsed() < IDLE_TIMEOUT);
        while let Some(at) = idle.iter().rposition(|c| &c.key == key) {
            let mut connection = idle.swap_remove(at);
            if connection.io.is_idle_and_open() {
                return Some(connection.io);
            }
        }
        None
    }

    /// Keeps a connection whose last response was read whole.
    pub fn put(&self, key: Key, io: Io) {
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push(Idle { key, io, since: Instant::now() });
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }
}
