//! A pool of model instances, each owned by a dedicated OS thread (never an async
//! runtime thread: inference blocks for milliseconds), fed through one bounded queue.
//! A model run that panics is answered with an error and its instance rebuilt; a
//! worker whose instance cannot be rebuilt stops, and the pool's health says so.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::error::VisionError;
use crate::model::Model;

type Reply<O> = Result<O, VisionError>;

enum Job<M: Model> {
    Run {
        input: M::Input,
        reply: Sender<Reply<M::Output>>,
    },
    /// Ends the worker that takes it, as if its model could not be rebuilt: how tests
    /// of a test build check that health follows the pools.
    #[cfg(feature = "fault-injection")]
    Stop,
}

/// Faults a test build can inject into a pool.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// One worker ends as if its model could not be rebuilt.
    StopOneWorker,
    /// The next model run panics (the worker rebuilds its model and goes on).
    PanicOnNextRun,
}

/// State the pool and its threads share.
struct Shared {
    workers: usize,
    alive: AtomicUsize,
    panics: AtomicU64,
    /// Set by fault injection: the next model run panics.
    #[cfg(feature = "fault-injection")]
    panic_next: AtomicBool,
    /// Set when the pool is dropped: queued jobs are answered `WorkerGone`, not run.
    stopping: AtomicBool,
}

/// Counts a worker as alive for as long as its thread runs, even if it unwinds.
struct AliveGuard(Arc<Shared>);

impl AliveGuard {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.alive.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(shared))
    }
}

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A pool's state, for health checks and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolHealth {
    /// The model's name.
    pub model: String,
    /// Worker threads still running, of `workers` started.
    pub alive: usize,
    pub workers: usize,
    /// Model runs that panicked since the pool started (each instance was rebuilt, or
    /// its worker stopped).
    pub panics: u64,
}

impl PoolHealth {
    /// True while every worker the pool started still runs.
    pub fn serving(&self) -> bool {
        self.alive == self.workers
    }
}

impl std::fmt::Display for PoolHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} of {} workers alive, {} panics",
            self.model, self.alive, self.workers, self.panics
        )
    }
}

pub struct WorkerPool<M: Model> {
    /// `None` only while dropping; dropping it tells the workers to stop.
    tx: Option<Sender<Job<M>>>,
    threads: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    name: String,
    version: String,
}

impl<M: Model> WorkerPool<M> {
    /// Starts `workers` threads, each building its own model with `factory` and
    /// warming it up, with room for `queue` waiting inputs. Returns once every worker
    /// is ready, or the first error if any could not start (the others are stopped).
    pub fn spawn<F>(factory: F, workers: usize, queue: usize) -> Result<Self, VisionError>
    where
        F: Fn() -> Result<M, VisionError> + Send + Sync + 'static,
    {
        if workers == 0 {
            return Err(VisionError::BadInput(
                "a worker pool needs at least one worker".into(),
            ));
        }
        let (tx, rx) = bounded::<Job<M>>(queue);
        let (ready_tx, ready_rx) = bounded::<Result<(String, String), VisionError>>(workers);
        let factory = Arc::new(factory);
        let shared = Arc::new(Shared {
            workers,
            alive: AtomicUsize::new(0),
            panics: AtomicU64::new(0),
            #[cfg(feature = "fault-injection")]
            panic_next: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        });

        let mut pool = Self {
            tx: Some(tx),
            threads: Vec::with_capacity(workers),
            shared: Arc::clone(&shared),
            name: String::new(),
            version: String::new(),
        };
        for i in 0..workers {
            let (rx, ready, factory, shared) = (
                rx.clone(),
                ready_tx.clone(),
                Arc::clone(&factory),
                Arc::clone(&shared),
            );
            let thread = std::thread::Builder::new()
                .name(format!("vision-worker-{i}"))
                .spawn(move || worker_main(&*factory, &rx, &shared, ready));
            match thread {
                Ok(handle) => pool.threads.push(handle),
                // Dropping `pool` stops and joins the workers already started.
                Err(e) => {
                    return Err(VisionError::Runtime(format!(
                        "cannot start worker thread: {e}"
                    )));
                }
            }
        }
        drop((rx, ready_tx));

        let mut first_error = None;
        for _ in 0..workers {
            match ready_rx.recv() {
                Ok(Ok((name, version))) => {
                    if pool.name.is_empty() {
                        (pool.name, pool.version) = (name, version);
                    }
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                // A worker died before reporting; should not happen as build panics are caught.
                Err(_) => {
                    first_error.get_or_insert(VisionError::WorkerGone);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(pool),
        }
    }

    /// Runs `input` on the next free worker, waiting (blocking this thread) for queue
    /// space and for the result. Not for async runtime threads.
    pub fn call(&self, input: M::Input) -> Result<M::Output, VisionError> {
        let (reply, result) = bounded(1);
        self.tx
            .as_ref()
            .ok_or(VisionError::WorkerGone)?
            .send(Job::Run { input, reply })
            .map_err(|_| VisionError::WorkerGone)?;
        result.recv().map_err(|_| VisionError::WorkerGone)?
    }

    /// True while every worker the pool started still runs.
    pub fn healthy(&self) -> bool {
        self.health().serving()
    }

    pub fn health(&self) -> PoolHealth {
        PoolHealth {
            model: self.name.clone(),
            alive: self.shared.alive.load(Ordering::SeqCst),
            workers: self.shared.workers,
            panics: self.shared.panics.load(Ordering::SeqCst),
        }
    }

    /// Injects a fault (test builds only): how tests check that health follows the
    /// pools and that a panicking model loses only its own input.
    #[cfg(feature = "fault-injection")]
    pub fn inject(&self, fault: Fault) {
        match fault {
            Fault::StopOneWorker => {
                if let Some(tx) = &self.tx {
                    let _ = tx.send(Job::Stop);
                }
            }
            Fault::PanicOnNextRun => self.shared.panic_next.store(true, Ordering::SeqCst),
        }
    }

    /// The model's name, as the first worker's instance reports it.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }
}

impl<M: Model> Drop for WorkerPool<M> {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Closing the queue ends each worker's receive loop once the queue is drained.
        self.tx = None;
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!(model = %self.name, "worker thread panicked outside a model run");
            }
        }
    }
}

/// Builds and warms up one model; a panic in either becomes an error.
fn build_model<M, F>(factory: &F) -> Result<M, VisionError>
where
    M: Model,
    F: Fn() -> Result<M, VisionError>,
{
    catch_unwind(AssertUnwindSafe(|| {
        let mut model = factory()?;
        model.warm_up()?;
        Ok(model)
    }))
    .unwrap_or_else(|_| {
        Err(VisionError::Panicked {
            model: "model factory or warm-up".into(),
        })
    })
}

fn worker_main<M, F>(
    factory: &F,
    rx: &Receiver<Job<M>>,
    shared: &Arc<Shared>,
    ready: Sender<Reply<(String, String)>>,
) where
    M: Model,
    F: Fn() -> Result<M, VisionError>,
{
    let _alive = AliveGuard::new(shared);
    let mut model = match build_model(factory) {
        Ok(model) => model,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok((model.name().to_owned(), model.version().to_owned())));
    drop(ready);

    while let Ok(job) = rx.recv() {
        let (input, reply) = match job {
            Job::Run { input, reply } => (input, reply),
            #[cfg(feature = "fault-injection")]
            Job::Stop => {
                tracing::error!(model = %model.name(), "worker stopped on request (fault injection)");
                return;
            }
        };
        if shared.stopping.load(Ordering::SeqCst) {
            let _ = reply.send(Err(VisionError::WorkerGone));
            continue;
        }
        // The caller may have given up; its result is then unwanted.
        match catch_unwind(AssertUnwindSafe(|| {
            #[cfg(feature = "fault-injection")]
            if shared.panic_next.swap(false, Ordering::SeqCst) {
                panic!("injected panic in a model run (fault injection)");
            }
            model.run(input)
        })) {
            Ok(result) => {
                let _ = reply.send(result);
            }
            Err(_) => {
                let name = model.name().to_owned();
                shared.panics.fetch_add(1, Ordering::SeqCst);
                let _ = reply.send(Err(VisionError::Panicked {
                    model: name.clone(),
                }));
                // The panic may have left the model half-updated: replace it.
                match build_model(factory) {
                    Ok(fresh) => model = fresh,
                    Err(e) => {
                        tracing::error!(model = %name, error = %e, "cannot rebuild model after a panic; worker stops");
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    use super::*;

    /// What the fake model is asked to do.
    enum Op {
        Double(i32),
        Fail,
        Panic,
    }

    struct Fake {
        dropped: Arc<AtomicUsize>,
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Model for Fake {
        type Input = Op;
        type Output = i32;

        fn name(&self) -> &str {
            "fake"
        }

        fn version(&self) -> &str {
            "1"
        }

        fn run(&mut self, input: Op) -> Result<i32, VisionError> {
            match input {
                Op::Double(v) => Ok(v * 2),
                Op::Fail => Err(VisionError::BadInput("fail on request".into())),
                Op::Panic => panic!("fake model panics on request"),
            }
        }

        fn warm_up(&mut self) -> Result<(), VisionError> {
            self.run(Op::Double(1)).map(|_| ())
        }
    }

    fn fake_pool(workers: usize, queue: usize) -> (WorkerPool<Fake>, Arc<AtomicUsize>) {
        let dropped = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&dropped);
        let pool = WorkerPool::spawn(
            move || {
                Ok(Fake {
                    dropped: Arc::clone(&counter),
                })
            },
            workers,
            queue,
        )
        .unwrap();
        (pool, dropped)
    }

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn results_come_back_from_many_callers() {
        let (pool, _) = fake_pool(3, 4);
        assert_eq!((pool.name(), pool.version()), ("fake", "1"));
        assert_eq!(pool.health().workers, 3);
        std::thread::scope(|s| {
            for t in 0..4 {
                let pool = &pool;
                s.spawn(move || {
                    for i in 0..50 {
                        assert_eq!(
                            pool.call(Op::Double(t * 100 + i)).unwrap(),
                            2 * (t * 100 + i)
                        );
                    }
                });
            }
        });
        assert!(pool.healthy());
    }

    #[test]
    fn an_error_goes_back_and_the_worker_carries_on() {
        let (pool, _) = fake_pool(1, 1);
        assert!(matches!(pool.call(Op::Fail), Err(VisionError::BadInput(_))));
        assert_eq!(pool.call(Op::Double(4)).unwrap(), 8);
        assert!(pool.healthy());
    }

    #[test]
    fn a_panic_is_reported_and_the_pool_survives() {
        let (pool, dropped) = fake_pool(1, 1);
        assert!(matches!(
            pool.call(Op::Panic),
            Err(VisionError::Panicked { .. })
        ));
        // The worker was rebuilt: the pool still serves, and the panic is counted.
        let health = pool.health();
        assert!(health.serving(), "{health}");
        assert_eq!((health.alive, health.panics), (1, 1));
        assert_eq!(pool.call(Op::Double(5)).unwrap(), 10);
        // The panicked instance was replaced by a fresh one.
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_worker_whose_model_cannot_be_rebuilt_leaves_the_pool_unhealthy() {
        let builds = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&builds);
        let pool = WorkerPool::spawn(
            move || {
                // The first build works; the one after the panic does not.
                if count.fetch_add(1, Ordering::SeqCst) == 0 {
                    Ok(Fake {
                        dropped: Arc::new(AtomicUsize::new(0)),
                    })
                } else {
                    Err(VisionError::ModelLoad {
                        path: "x.onnx".into(),
                        msg: "gone".into(),
                    })
                }
            },
            1,
            1,
        )
        .unwrap();
        assert!(pool.healthy());
        assert!(matches!(
            pool.call(Op::Panic),
            Err(VisionError::Panicked { .. })
        ));
        wait_until("the worker stops", || pool.health().alive == 0);
        assert!(!pool.healthy());
        assert!(matches!(
            pool.call(Op::Double(1)),
            Err(VisionError::WorkerGone)
        ));
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn a_stopped_worker_is_seen_by_health() {
        let (pool, _) = fake_pool(2, 2);
        pool.inject(Fault::StopOneWorker);
        wait_until("one worker stops", || pool.health().alive == 1);
        assert!(!pool.healthy());
        assert_eq!(
            pool.call(Op::Double(2)).unwrap(),
            4,
            "the other still serves"
        );
    }

    #[test]
    fn drop_stops_and_joins_every_worker() {
        let (pool, dropped) = fake_pool(3, 2);
        assert_eq!(pool.health().alive, 3);
        drop(pool);
        // Each worker drops its model as its thread ends; join means all have.
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn spawn_reports_a_failing_factory() {
        let built = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&built);
        let dropped = Arc::new(AtomicUsize::new(0));
        let result = WorkerPool::spawn(
            move || {
                if count.fetch_add(1, Ordering::SeqCst) == 1 {
                    Err(VisionError::ModelLoad {
                        path: "x.onnx".into(),
                        msg: "corrupt".into(),
                    })
                } else {
                    Ok(Fake {
                        dropped: Arc::clone(&dropped),
                    })
                }
            },
            3,
            1,
        );
        assert!(matches!(result, Err(VisionError::ModelLoad { .. })));
    }
}
