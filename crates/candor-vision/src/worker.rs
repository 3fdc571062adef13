//! A pool of model instances, each owned by a dedicated OS thread (never an async
//! runtime thread: inference blocks for milliseconds), fed through one bounded queue.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use tokio::sync::{Notify, oneshot};

use crate::error::VisionError;
use crate::model::Model;

type Reply<O> = Result<O, VisionError>;

/// Where a worker sends one job's result.
enum ReplyTo<O> {
    Blocking(Sender<Reply<O>>),
    Async(oneshot::Sender<Reply<O>>),
}

impl<O> ReplyTo<O> {
    fn send(self, result: Reply<O>) {
        // The caller may have given up (dropped its future); the result is then unwanted.
        match self {
            ReplyTo::Blocking(tx) => {
                let _ = tx.send(result);
            }
            ReplyTo::Async(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

struct Job<M: Model> {
    input: M::Input,
    reply: ReplyTo<M::Output>,
}

/// State the pool and its threads share.
struct Shared {
    workers: usize,
    alive: AtomicUsize,
    last_run_panicked: AtomicBool,
    panics: AtomicU64,
    /// Set when the pool is dropped: queued jobs are answered `WorkerGone`, not run.
    stopping: AtomicBool,
    /// Woken whenever a worker takes a job off the queue (or exits), for async
    /// callers waiting for queue space.
    space: Notify,
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
        self.0.space.notify_waiters();
    }
}

pub struct WorkerPool<M: Model> {
    /// `None` only while dropping; dropping it tells the workers to stop.
    tx: Option<Sender<Job<M>>>,
    threads: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
    name: String,
    version: String,
    queue: usize,
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
            last_run_panicked: AtomicBool::new(false),
            panics: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            space: Notify::new(),
        });

        let mut pool = Self {
            tx: Some(tx),
            threads: Vec::with_capacity(workers),
            shared: Arc::clone(&shared),
            name: String::new(),
            version: String::new(),
            queue,
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
    /// space and for the result. Not for async runtime threads: use [`Self::call_async`].
    pub fn call(&self, input: M::Input) -> Result<M::Output, VisionError> {
        let (reply, result) = bounded(1);
        self.sender()?
            .send(Job {
                input,
                reply: ReplyTo::Blocking(reply),
            })
            .map_err(|_| VisionError::WorkerGone)?;
        result.recv().map_err(|_| VisionError::WorkerGone)?
    }

    /// Like [`Self::call`], but fails at once with [`VisionError::Overloaded`] when the
    /// queue is full, so a live stream can drop the frame instead of falling behind.
    pub fn try_call(&self, input: M::Input) -> Result<M::Output, VisionError> {
        let (reply, result) = bounded(1);
        self.try_enqueue(Job {
            input,
            reply: ReplyTo::Blocking(reply),
        })?;
        result.recv().map_err(|_| VisionError::WorkerGone)?
    }

    /// Async [`Self::call`]: waits for queue space and for the result without blocking
    /// the runtime thread. Dropping the future abandons the result, not the work.
    pub async fn call_async(&self, input: M::Input) -> Result<M::Output, VisionError> {
        let tx = self.sender()?;
        let (reply, result) = oneshot::channel();
        let mut job = Job {
            input,
            reply: ReplyTo::Async(reply),
        };
        loop {
            // Register for the wake-up before trying, so a slot freed in between is not missed.
            let mut space = pin!(self.shared.space.notified());
            space.as_mut().enable();
            match tx.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    job = back;
                    space.await;
                }
                Err(TrySendError::Disconnected(_)) => return Err(VisionError::WorkerGone),
            }
        }
        result.await.map_err(|_| VisionError::WorkerGone)?
    }

    /// Async [`Self::try_call`]: [`VisionError::Overloaded`] at once when the queue is full.
    pub async fn try_call_async(&self, input: M::Input) -> Result<M::Output, VisionError> {
        let (reply, result) = oneshot::channel();
        self.try_enqueue(Job {
            input,
            reply: ReplyTo::Async(reply),
        })?;
        result.await.map_err(|_| VisionError::WorkerGone)?
    }

    fn try_enqueue(&self, job: Job<M>) -> Result<(), VisionError> {
        self.sender()?.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => VisionError::Overloaded,
            TrySendError::Disconnected(_) => VisionError::WorkerGone,
        })
    }

    fn sender(&self) -> Result<&Sender<Job<M>>, VisionError> {
        self.tx.as_ref().ok_or(VisionError::WorkerGone)
    }

    /// False when a worker thread has ended or the latest run panicked.
    pub fn healthy(&self) -> bool {
        self.shared.alive.load(Ordering::SeqCst) == self.shared.workers
            && !self.shared.last_run_panicked.load(Ordering::SeqCst)
    }

    /// Worker threads still running.
    pub fn alive_workers(&self) -> usize {
        self.shared.alive.load(Ordering::SeqCst)
    }

    /// Model runs that panicked since the pool started.
    pub fn panic_count(&self) -> u64 {
        self.shared.panics.load(Ordering::SeqCst)
    }

    /// Inputs waiting in the queue (not counting those being run).
    pub fn queued(&self) -> usize {
        self.tx.as_ref().map_or(0, Sender::len)
    }

    pub fn queue_capacity(&self) -> usize {
        self.queue
    }

    pub fn workers(&self) -> usize {
        self.shared.workers
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

    while let Ok(Job { input, reply }) = rx.recv() {
        shared.space.notify_waiters();
        if shared.stopping.load(Ordering::SeqCst) {
            reply.send(Err(VisionError::WorkerGone));
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| model.run(input))) {
            Ok(result) => {
                shared.last_run_panicked.store(false, Ordering::SeqCst);
                reply.send(result);
            }
            Err(_) => {
                let name = model.name().to_owned();
                shared.panics.fetch_add(1, Ordering::SeqCst);
                shared.last_run_panicked.store(true, Ordering::SeqCst);
                reply.send(Err(VisionError::Panicked {
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
        /// Signals `started`, then blocks until `release` is sent or dropped.
        Block {
            started: Sender<()>,
            release: Receiver<()>,
        },
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
                Op::Block { started, release } => {
                    let _ = started.send(());
                    let _ = release.recv();
                    Ok(0)
                }
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
        assert_eq!(
            (pool.name(), pool.version(), pool.workers()),
            ("fake", "1", 3)
        );
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
        assert!(!pool.healthy());
        assert_eq!(pool.panic_count(), 1);
        assert_eq!(pool.call(Op::Double(5)).unwrap(), 10);
        assert!(pool.healthy());
        assert_eq!(pool.alive_workers(), 1);
        // The panicked instance was replaced by a fresh one.
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn try_call_fails_fast_when_the_queue_is_full() {
        let (pool, _) = fake_pool(1, 1);
        let (started_tx, started) = bounded(1);
        let (release, release_rx) = bounded::<()>(0);
        std::thread::scope(|s| {
            let busy = s.spawn(|| {
                pool.call(Op::Block {
                    started: started_tx,
                    release: release_rx,
                })
            });
            started.recv().unwrap(); // the only worker is now busy
            let queued = s.spawn(|| pool.call(Op::Double(21)));
            wait_until("the queue is full", || pool.queued() == 1);

            assert!(matches!(
                pool.try_call(Op::Double(1)),
                Err(VisionError::Overloaded)
            ));
            let overloaded = futures_lite_block_on(pool.try_call_async(Op::Double(1)));
            assert!(matches!(overloaded, Err(VisionError::Overloaded)));

            drop(release); // unblocks the worker
            assert_eq!(busy.join().unwrap().unwrap(), 0);
            assert_eq!(queued.join().unwrap().unwrap(), 42);
        });
        assert_eq!(pool.try_call(Op::Double(3)).unwrap(), 6);
    }

    #[test]
    fn drop_stops_and_joins_every_worker() {
        let (pool, dropped) = fake_pool(3, 2);
        assert_eq!(pool.alive_workers(), 3);
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

    #[test]
    fn spawn_reports_a_panicking_factory() {
        let result = WorkerPool::<Fake>::spawn(|| panic!("factory panics"), 2, 1);
        assert!(matches!(result, Err(VisionError::Panicked { .. })));
        assert!(matches!(
            WorkerPool::<Fake>::spawn(|| unreachable!(), 0, 1),
            Err(VisionError::BadInput(_))
        ));
    }

    #[tokio::test]
    async fn call_async_returns_results_and_errors() {
        let (pool, _) = fake_pool(2, 2);
        assert_eq!(pool.call_async(Op::Double(7)).await.unwrap(), 14);
        assert_eq!(pool.try_call_async(Op::Double(8)).await.unwrap(), 16);
        assert!(matches!(
            pool.call_async(Op::Fail).await,
            Err(VisionError::BadInput(_))
        ));
        assert!(matches!(
            pool.call_async(Op::Panic).await,
            Err(VisionError::Panicked { .. })
        ));
        assert_eq!(pool.call_async(Op::Double(9)).await.unwrap(), 18);
    }

    #[tokio::test]
    async fn call_async_waits_for_queue_space() {
        let (pool, _) = fake_pool(1, 1);
        let (started_tx, started) = bounded(1);
        let (release, release_rx) = bounded::<()>(0);
        let busy = pool.try_call_async(Op::Block {
            started: started_tx,
            release: release_rx,
        });
        let queued = pool.call_async(Op::Double(1));
        let waiting = pool.call_async(Op::Double(2));
        // Release the worker from a plain thread once it is busy and the queue is full.
        let releaser = std::thread::spawn(move || {
            let _ = started.recv();
            std::thread::sleep(Duration::from_millis(20));
            drop(release);
        });
        let (b, q, w) = tokio::join!(busy, queued, waiting);
        releaser.join().unwrap();
        assert_eq!((b.unwrap(), q.unwrap(), w.unwrap()), (0, 2, 4));
    }

    #[test]
    fn pool_and_its_async_calls_can_cross_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let (pool, _) = fake_pool(1, 1);
        send_sync(&pool);
        let fut = pool.call_async(Op::Double(1));
        send(&fut);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(fut).unwrap(), 2);
    }

    /// Polls a future that is expected to complete without waiting (no runtime needed).
    fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = pin!(fut);
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("future was expected to complete at once"),
        }
    }
}
