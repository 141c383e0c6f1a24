//! Hands freed heap back to the operating system after a burst.
//!
//! glibc's malloc keeps what a closed connection freed (hyper's 8 KiB buffers, its task) in its
//! arenas for reuse, so without this the resident size stays at the high-water mark of the
//! largest burst of connections ever seen, and a leak cannot be told from an old burst.
//! `malloc_trim` returns every wholly free page; it takes each arena's lock for a moment, so it
//! runs every few seconds, not per connection.

use std::time::Duration;

/// Often enough that a burst's memory is back soon after its connections idle out.
pub const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Trims the heap every [`TRIM_EVERY`] until the handle is aborted.
pub fn spawn_trimmer() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(TRIM_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            trim();
        }
    })
}

/// Returns the heap's free pages to the OS; true when any were returned.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() -> bool {
    // SAFETY: malloc_trim takes no pointers and locks each arena itself; glibc documents it as
    // safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators (musl's, macOS's) return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_goes_back_to_the_os() {
        // Many buffers of a connection's size, freed with every other one still held, as a burst
        // of connections leaves them: nothing can be returned by shrinking the heap's top.
        let mut held: Vec<Vec<u8>> = (0..4096).map(|i| vec![i as u8; 8 * 1024]).collect();
        let mut i = 0;
        held.retain(|_| {
            i += 1;
            i % 2 == 0
        });
        assert!(
            trim(),
            "malloc_trim returned nothing after 16 MiB was freed"
        );
        drop(held);
    }
}
