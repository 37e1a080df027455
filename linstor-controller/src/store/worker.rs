//! A thread that owns a database client and runs calls on it, one at a time.
//!
//! The PostgreSQL and etcd clients drive their own async runtime and must not be entered from
//! a thread that already runs one (the REST handlers, the start-up code). A [`Worker`] keeps
//! the client on its own thread; a call sends a closure there and blocks until its answer, so
//! the store is usable from any thread, async or not, in the same way as SQLite's.

use std::sync::mpsc;

/// A call waiting for the client.
type Call<C> = Box<dyn FnOnce(&mut C) + Send>;

/// The handle of a client thread; dropping it ends the thread (and closes the client).
pub struct Worker<C> {
    calls: mpsc::Sender<Call<C>>,
    name: String,
}

impl<C> std::fmt::Debug for Worker<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish()
    }
}

/// The client thread is gone (it panicked); the store cannot be used any more.
#[derive(Debug, thiserror::Error)]
#[error("the database client thread '{0}' stopped; restart the controller")]
pub struct WorkerGone(pub String);

impl<C: 'static> Worker<C> {
    /// Starts the thread `name` and builds the client there with `make`; its error is
    /// returned here and no thread is left running.
    pub fn spawn<E: Send + 'static>(
        name: &str,
        make: impl FnOnce() -> Result<C, E> + Send + 'static,
    ) -> Result<Worker<C>, E> {
        let (calls, rx) = mpsc::channel::<Call<C>>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), E>>();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let mut client = match make() {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(call) = rx.recv() {
                    call(&mut client);
                }
            });
        if let Err(e) = spawned {
            // Out of threads: there is nothing to report through `E`; fail loudly.
            panic!("cannot start the database client thread '{name}': {e}");
        }
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Worker {
                calls,
                name: name.to_owned(),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => panic!("the database client thread '{name}' panicked while connecting"),
        }
    }

    /// Runs `f` on the client and returns its answer.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut C) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        let (tx, rx) = mpsc::sync_channel(1);
        let call: Call<C> = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.calls
            .send(call)
            .map_err(|_| WorkerGone(self.name.clone()))?;
        rx.recv().map_err(|_| WorkerGone(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_run_on_the_thread_in_order_and_errors_of_make_come_back() {
        let w = Worker::spawn("test-worker", || Ok::<_, String>(Vec::<u32>::new())).unwrap();
        for i in 0..5 {
            w.call(move |v| v.push(i)).unwrap();
        }
        let name = w.call(|_| std::thread::current().name().map(str::to_owned));
        assert_eq!(name.unwrap().as_deref(), Some("test-worker"));
        assert_eq!(w.call(|v| v.clone()).unwrap(), vec![0, 1, 2, 3, 4]);
        let e = Worker::<()>::spawn("failing", || Err::<(), _>("no server".to_owned()));
        assert_eq!(e.unwrap_err(), "no server");
    }

    #[test]
    fn a_call_from_inside_an_async_runtime_works() {
        let w = Worker::spawn("rt-worker", || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| e.to_string())
        })
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt.block_on(async { w.call(|inner| inner.block_on(async { 7 })).unwrap() });
        assert_eq!(got, 7);
    }
}
