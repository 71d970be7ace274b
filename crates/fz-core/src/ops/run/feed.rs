//! The [`Feed`]: a batch's cases handed to the engine just in time.
//!
//! Cases are compiled, checked against a resumed run and looked up in the
//! cache a chunk at a time (`FZ_COMPILE_AHEAD` cases, default 2048), when
//! the engine has taken every job of the chunk before: the work area never
//! holds more than about one chunk of waiting cases, whatever the size of
//! the design, and what the run keeps in memory per case is its row only.
//! A design of at most one chunk goes through the same phases in the same
//! order as if it were compiled up front. A chunk is large enough to keep
//! formula workers busy in batches and every slot fed. This module does not run or store cases (the
//! engine and the batch do).

use super::batch::Batch;
use crate::cache::lookup::{CacheIndex, CacheTier};
use crate::calculators::Cancel;
use crate::engine::{Job, JobSource};
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// What is compiled and not yet taken.
struct Pending {
    queue: VecDeque<Job>,
    /// First case not compiled yet.
    next: usize,
    /// The first compile error; no case is compiled after it.
    error: Option<Error>,
}

/// The jobs of one batch, compiled a chunk ahead of the engine.
pub(super) struct Feed<'b, 'r, 'a> {
    batch: &'b Batch<'r, 'a>,
    index: &'b CacheIndex,
    tiers: &'b [CacheTier],
    cancel: &'b Cancel,
    pending: Mutex<Pending>,
}

/// Compiles the first chunk of `batch` (a compile error then stops the
/// run before any case starts); returns the cases still to look up and
/// the first case not compiled. The cache tiers are read after this, as
/// before a run compiled everything up front.
pub(super) fn first_chunk(batch: &Batch<'_, '_>) -> Result<(Vec<usize>, usize)> {
    let end = batch.chunk().min(batch.total());
    Ok((batch.prepare_chunk(0..end)?, end))
}

impl<'b, 'r, 'a> Feed<'b, 'r, 'a> {
    /// A feed whose first chunk (`first`, compiled up to `next`) is looked
    /// up in the cache now.
    pub fn new(
        batch: &'b Batch<'r, 'a>,
        index: &'b CacheIndex,
        tiers: &'b [CacheTier],
        cancel: &'b Cancel,
        (first, next): (Vec<usize>, usize),
    ) -> Self {
        let queue = batch.cache_lookup(&first, index, tiers).into();
        Feed {
            batch,
            index,
            tiers,
            cancel,
            pending: Mutex::new(Pending {
                queue,
                next,
                error: None,
            }),
        }
    }

    /// The cases queued to run, and those not compiled yet (some of which
    /// the cache may still answer).
    pub fn left(&self) -> (usize, usize) {
        let pending = self.pending();
        (pending.queue.len(), self.batch.total() - pending.next)
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Compiles, checks and looks up the next chunk into the queue.
    fn refill(&self, pending: &mut Pending) {
        let start = pending.next;
        let end = (start + self.batch.chunk()).min(self.batch.total());
        pending.next = end;
        match self.batch.prepare_chunk(start..end) {
            Ok(left) => {
                let jobs = self.batch.cache_lookup(&left, self.index, self.tiers);
                pending.queue.extend(jobs);
            }
            Err(e) => pending.error = Some(e),
        }
    }

    /// Ends the feed: the first case never compiled, or the compile error
    /// that stopped it.
    pub fn end(self) -> Result<usize> {
        let pending = self.pending.into_inner().unwrap_or_else(|p| p.into_inner());
        match pending.error {
            Some(e) => Err(e),
            None => Ok(pending.next),
        }
    }
}

impl JobSource for Feed<'_, '_, '_> {
    fn next_job(&self) -> Option<Job> {
        let mut pending = self.pending();
        loop {
            if let Some(job) = pending.queue.pop_front() {
                return Some(job);
            }
            let more = pending.next < self.batch.total() && pending.error.is_none();
            if !more || !self.cancel.may_start() {
                return None;
            }
            // Other workers wait here for the chunk: compiling it takes
            // milliseconds, against the chunk's cases to run.
            self.refill(&mut pending);
        }
    }

    fn most_left(&self) -> usize {
        let (queued, uncompiled) = self.left();
        queued + uncompiled
    }
}
