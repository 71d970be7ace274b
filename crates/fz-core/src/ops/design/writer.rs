//! The files of an iteration (`X_<i>.csv`, `Y_<i>.csv`, `results_<i>.html`)
//! written by a thread of their own, in order, while the next batch runs:
//! drawing the plots and formatting a thousand points took more than half
//! of the time between two iterations. Every job is done before the design
//! returns ([`Writer::finish`], or the drop of the writer on an error).
//!
//! This module only sequences jobs; what is written is [`super::files`]'.

use std::sync::mpsc::{channel, Sender};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A thread writing files in submission order.
pub struct Writer {
    tx: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread; when it cannot be started, jobs run inline.
    pub fn start() -> Writer {
        let (tx, rx) = channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("fzd-files".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .ok();
        Writer {
            tx: thread.is_some().then_some(tx),
            thread,
        }
    }

    /// Queues `job` (runs it now when there is no thread, or after
    /// [`Writer::finish`]).
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        let job: Job = Box::new(job);
        let Some(tx) = &self.tx else {
            job();
            return;
        };
        // The thread ends only when the sender is dropped: a failed send
        // means it panicked, and the job is done here instead.
        if let Err(back) = tx.send(job) {
            (back.0)();
        }
    }

    /// Waits until every queued job is done; later jobs run inline.
    pub fn finish(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn jobs_run_in_order_and_are_done_when_finish_returns() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut w = Writer::start();
        for k in 0..50 {
            let seen = seen.clone();
            w.submit(move || {
                std::thread::sleep(std::time::Duration::from_micros(200));
                seen.lock().unwrap().push(k);
            });
        }
        w.finish();
        assert_eq!(*seen.lock().unwrap(), (0..50).collect::<Vec<_>>());
        let after = seen.clone();
        w.submit(move || after.lock().unwrap().push(50));
        assert_eq!(seen.lock().unwrap().len(), 51, "inline after finish");
    }

    #[test]
    fn dropping_the_writer_also_waits() {
        let done = Arc::new(Mutex::new(false));
        {
            let w = Writer::start();
            let done = done.clone();
            w.submit(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                *done.lock().unwrap() = true;
            });
        }
        assert!(*done.lock().unwrap());
    }
}
