//! Memory of `leadql serve`: a cap per connection inside a cap for the whole server.
//!
//! Each connection's session gets its own pool ([`ConnectionPool`]): its operators
//! (sorts, joins, aggregations) share the connection's limit fairly, as `leadql sql`'s
//! do, and spill to disk past it. Every pool also draws from one [`ServerMemory`], so
//! that 32 connections with a 3 GiB limit each cannot reserve 96 GiB together: a
//! reservation that would pass the server's total fails like one past the
//! connection's limit, which makes a spilling operator spill and any other fail with
//! "resources exhausted", in that connection only. One client's exploding join thus
//! takes at most its connection's limit, and the others keep the rest.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};

/// The memory all connections draw from together.
#[derive(Debug)]
pub struct ServerMemory {
    limit: usize,
    used: AtomicUsize,
}

impl ServerMemory {
    /// A server-wide cap of `limit` bytes.
    pub fn new(limit: usize) -> Arc<ServerMemory> {
        Arc::new(ServerMemory {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes reserved by all connections now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// Takes `bytes` if they fit under the cap.
    fn try_take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Takes `bytes` even past the cap (DataFusion's infallible `grow`).
    fn take(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::SeqCst);
    }

    fn give_back(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                Some(used.saturating_sub(bytes))
            });
    }
}

/// One connection's pool: a fair spill pool of the connection's limit, whose every
/// reservation also counts against the server's memory.
#[derive(Debug)]
pub struct ConnectionPool {
    own: FairSpillPool,
    limit: usize,
    server: Arc<ServerMemory>,
}

impl ConnectionPool {
    /// A pool of `limit` bytes (at most the server's cap) drawing from `server`.
    pub fn new(limit: usize, server: Arc<ServerMemory>) -> Arc<ConnectionPool> {
        let limit = limit.min(server.limit);
        Arc::new(ConnectionPool {
            own: FairSpillPool::new(limit),
            limit,
            server,
        })
    }
}

impl fmt::Display for ConnectionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection pool ({} of {} bytes reserved; server {} of {})",
            self.own.reserved(),
            self.limit,
            self.server.used(),
            self.server.limit
        )
    }
}

impl MemoryPool for ConnectionPool {
    fn name(&self) -> &str {
        "leadql-serve"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.own.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.own.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.own.grow(reservation, additional);
        self.server.take(additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.own.shrink(reservation, shrink);
        self.server.give_back(shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.own.try_grow(reservation, additional)?;
        if self.server.try_take(additional) {
            return Ok(());
        }
        self.own.shrink(reservation, additional);
        // Says nothing of how much other connections hold (one client must not
        // learn about the others' work from it).
        Err(DataFusionError::ResourcesExhausted(format!(
            "cannot reserve {additional} more bytes for {}: the memory of all connections \
             together (--server-memory) is in use; try again when other statements have finished",
            reservation.consumer().name(),
        )))
    }

    fn reserved(&self) -> usize {
        self.own.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools(
        server: usize,
        each: usize,
    ) -> (Arc<ServerMemory>, Arc<dyn MemoryPool>, Arc<dyn MemoryPool>) {
        let memory = ServerMemory::new(server);
        let a: Arc<dyn MemoryPool> = ConnectionPool::new(each, memory.clone());
        let b: Arc<dyn MemoryPool> = ConnectionPool::new(each, memory.clone());
        (memory, a, b)
    }

    #[test]
    fn a_connection_stops_at_its_own_limit() {
        let (memory, a, _) = pools(1000, 400);
        let r = MemoryConsumer::new("join").register(&a);
        r.try_grow(400).expect("fits");
        let err = r.try_grow(1).expect_err("refused").to_string();
        assert!(err.contains("Resources exhausted"), "{err}");
        assert_eq!(memory.used(), 400);
    }

    #[test]
    fn connections_together_stop_at_the_server_limit_and_get_it_back() {
        let (memory, a, b) = pools(1000, 600);
        let ra = MemoryConsumer::new("sort a").register(&a);
        let rb = MemoryConsumer::new("sort b").register(&b);
        ra.try_grow(600).expect("fits");
        // b is under its own limit, but the server has only 400 left.
        let err = rb.try_grow(500).expect_err("refused").to_string();
        assert!(err.contains("--server-memory"), "{err}");
        assert!(err.contains("sort b"), "{err}");
        assert!(!err.contains("600") && !err.contains("1000"), "{err}");
        // The failed attempt left nothing behind, in b's pool or the server's.
        assert_eq!(b.reserved(), 0);
        assert_eq!(memory.used(), 600);
        rb.try_grow(400).expect("fits");
        assert_eq!(memory.used(), 1000);
        // Freeing a's memory (a query ends) gives it to b.
        drop(ra);
        assert_eq!(memory.used(), 400);
        rb.try_grow(200).expect("fits");
        assert_eq!(memory.used(), 600);
        assert_eq!(a.reserved(), 0);
    }

    #[test]
    fn a_connection_limit_above_the_server_is_the_server_limit() {
        let (_, a, _) = pools(100, 1 << 30);
        assert!(matches!(a.memory_limit(), MemoryLimit::Finite(100)));
    }
}
