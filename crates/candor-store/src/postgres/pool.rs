//! A small connection pool: idle clients kept for reuse, new ones made on demand.
//!
//! The store's calls are short transactions, so a list of idle clients behind a mutex
//! is enough; a client that failed (closed) is not kept.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};

use postgres::{Client, Config};

use super::tls::Connector;
use crate::error::Result;

/// Idle connections kept open.
const MAX_IDLE: usize = 8;

pub(super) struct Pool {
    config: Config,
    connector: Connector,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    pub(super) fn new(config: Config, connector: Connector) -> Self {
        Self {
            config,
            connector,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A fresh connection, not taken from nor returned to the pool (for session-level
    /// advisory locks, which must not outlive their holder).
    pub(super) fn connect(&self) -> Result<Client> {
        self.connector.connect(&self.config)
    }

    pub(super) fn get(&self) -> Result<Pooled<'_>> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let client = match idle {
            Some(c) if !c.is_closed() => c,
            _ => self.connect()?,
        };
        Ok(Pooled {
            pool: self,
            client: Some(client),
        })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(PoisonError::into_inner));
        if idle.is_empty() {
            return;
        }
        // Closing a client blocks on the client's own runtime, which panics on a thread
        // that drives an async runtime, and the store's last owner may be one (a server
        // dropping its state at shutdown): close them on a thread of their own.
        let closer = std::thread::spawn(move || drop(idle));
        let _ = closer.join();
    }
}

/// A client on loan; back to the pool on drop unless it broke.
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("client present until drop")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("client present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if client.is_closed() || std::thread::panicking() {
            return;
        }
        let mut idle = self
            .pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(client);
        }
    }
}
