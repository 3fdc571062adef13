//! ONNX Runtime set-up: one process-wide environment loaded from a shared library
//! (the `load-dynamic` build), and the session options every model uses.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::ep::ExecutionProviderDispatch;
use ort::logging::LogLevel;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::{Session, SessionOutputs};

use crate::error::VisionError;
use crate::model::ModelSpec;

/// Environment variable read by [`environment`] when [`init_runtime`] was not called.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// The environment, plus the library it was loaded from (for diagnostics).
static RUNTIME: OnceLock<(Environment, PathBuf)> = OnceLock::new();
/// ONNX Runtime's own log level, for the environment and every session. Its INFO and
/// VERBOSE messages (session options, graph transforms, kernel placement: over a
/// thousand lines for a model pool at start) are the library's business; warnings and
/// errors still reach `tracing` (target `ort`).
const ORT_LOG_LEVEL: LogLevel = LogLevel::Warning;
/// Serialises first-time initialisation; `OnceLock::get_or_try_init` is not stable.
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime from `dylib` and creates the process-wide environment.
///
/// Idempotent: later calls return `Ok` without reloading. A later call naming a
/// different library is logged and ignored, because a process can load only one.
pub fn init_runtime(dylib: impl AsRef<Path>) -> Result<(), VisionError> {
    init_inner(dylib.as_ref()).map(|_| ())
}

/// The library path the runtime was loaded from, if it is initialised.
pub fn runtime_library() -> Option<&'static Path> {
    RUNTIME.get().map(|(_, path)| path.as_path())
}

/// The environment, initialising it from `$ORT_DYLIB_PATH` on first use when
/// [`init_runtime`] was not called explicitly.
pub fn environment() -> Result<&'static Environment, VisionError> {
    if let Some((env, _)) = RUNTIME.get() {
        return Ok(env);
    }
    match std::env::var_os(ORT_DYLIB_ENV) {
        Some(path) if !path.is_empty() => init_inner(Path::new(&path)),
        _ => Err(VisionError::Runtime(format!(
            "runtime not initialised: call init_runtime() or set {ORT_DYLIB_ENV}"
        ))),
    }
}

fn init_inner(dylib: &Path) -> Result<&'static Environment, VisionError> {
    // A poisoned lock only means another thread panicked mid-init; the OnceLock
    // below is still consistent, so carry on.
    let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((env, loaded)) = RUNTIME.get() {
        if loaded != dylib {
            tracing::warn!(
                requested = %dylib.display(),
                loaded = %loaded.display(),
                "ONNX Runtime already loaded; ignoring the other library"
            );
        }
        return Ok(env);
    }
    if !dylib.exists() {
        return Err(VisionError::Runtime(format!(
            "ONNX Runtime library not found at {}",
            dylib.display()
        )));
    }
    let env = ort::init_from(dylib)
        .map_err(|e| VisionError::Runtime(e.to_string()))?
        .with_name("candor")
        .with_telemetry(false)
        .build()
        .map_err(|e| VisionError::Runtime(e.to_string()))?;
    // ort registers its tracing logger at VERBOSE and leaves the filtering to
    // `tracing`: lower ONNX Runtime's level, so the messages are never even made.
    env.set_log_level(ORT_LOG_LEVEL);
    tracing::info!(library = %dylib.display(), "ONNX Runtime initialised");
    Ok(&RUNTIME.get_or_init(|| (env, dylib.to_path_buf())).0)
}

/// Where a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutionProvider {
    #[default]
    Cpu,
    /// NVIDIA GPU; needs the `cuda` cargo feature and a CUDA build of ONNX Runtime.
    Cuda { device_id: i32 },
}

/// `cpu` or `cuda:N`, as `--device` takes it.
impl std::fmt::Display for ExecutionProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda { device_id } => write!(f, "cuda:{device_id}"),
        }
    }
}

/// `cpu`, `cuda` or `cuda:N`, as [`Display`](std::fmt::Display) writes it.
impl std::str::FromStr for ExecutionProvider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            None if s == "cpu" => Ok(Self::Cpu),
            None if s == "cuda" => Ok(Self::Cuda { device_id: 0 }),
            Some(("cuda", n)) => n
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|device_id| Self::Cuda { device_id })
                .ok_or_else(|| format!("bad GPU number {n:?} in {s:?}")),
            _ => Err(format!(
                "unknown device {s:?}: expected cpu, cuda or cuda:N"
            )),
        }
    }
}

/// Session settings shared by every model wrapper.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeOptions {
    /// Intra-op threads per session. 1 by default: several single-thread sessions on
    /// worker threads serve concurrent streams better than one wide session.
    pub intra_threads: usize,
    /// Let idle intra-op threads spin. Off: spinning burns the cores other sessions need.
    pub allow_spinning: bool,
    pub execution_provider: ExecutionProvider,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            intra_threads: 1,
            allow_spinning: false,
            execution_provider: ExecutionProvider::Cpu,
        }
    }
}

/// Builds a session for the model at `path` with `options`.
pub fn build_session(path: &Path, options: &RuntimeOptions) -> Result<Session, VisionError> {
    let load_err = |msg: String| VisionError::ModelLoad {
        path: path.to_path_buf(),
        msg,
    };
    if !path.is_file() {
        return Err(load_err("file not found".into()));
    }
    let env = environment()?;
    let session = Session::builder(env).map_err(|e| load_err(e.to_string()))?;
    configure(session, options)
        .map_err(load_err)?
        .commit_from_file(path)
        .map_err(|e| load_err(e.to_string()))
}

/// Checks a freshly loaded session against what its wrapper expects, so that a wrong
/// file fails at load, not at the first frame: one input (named `input`, when given)
/// and every name of `outputs`. `what` names the expected model in the error
/// ("the face mesh model").
pub(crate) fn check_io<S: AsRef<str>>(
    session: &Session,
    spec: &ModelSpec,
    input: Option<&str>,
    outputs: impl IntoIterator<Item = S>,
    what: &str,
) -> Result<(), VisionError> {
    let inputs = session.inputs();
    match input {
        Some(name) if inputs.len() != 1 || inputs[0].name() != name => {
            return Err(spec.load_error(format!("expected the single input `{name}`: not {what}?")));
        }
        None if inputs.len() != 1 => {
            return Err(spec.load_error(format!("expected 1 input, found {}", inputs.len())));
        }
        _ => {}
    }
    for name in outputs {
        let name = name.as_ref();
        if !session.outputs().iter().any(|o| o.name() == name) {
            return Err(spec.load_error(format!("missing output `{name}`: not {what}?")));
        }
    }
    Ok(())
}

/// The f32 values of the output `name` of a run of `model`.
pub(crate) fn f32_output<'a>(
    outputs: &'a SessionOutputs<'_>,
    name: &str,
    model: &str,
) -> Result<&'a [f32], VisionError> {
    let value = outputs
        .get(name)
        .ok_or_else(|| VisionError::inference(model, format!("no output `{name}`")))?;
    let (_, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| VisionError::inference(model, e))?;
    Ok(data)
}

fn configure(builder: SessionBuilder, options: &RuntimeOptions) -> Result<SessionBuilder, String> {
    let eps = execution_providers(options.execution_provider)?;
    let mut builder = builder
        // Level 3 = basic + extended + layout (NCHWc) optimisations.
        .with_log_level(ORT_LOG_LEVEL)
        .map_err(|e| e.to_string())?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| e.to_string())?
        .with_intra_threads(options.intra_threads.max(1))
        .map_err(|e| e.to_string())?
        .with_intra_op_spinning(options.allow_spinning)
        .map_err(|e| e.to_string())?;
    if !eps.is_empty() {
        builder = builder.with_execution_providers(eps).map_err(|e| {
            format!(
                "cannot run on {}: {e} (a GPU needs the CUDA build of ONNX Runtime, \
                 installed by `scripts/setup --gpu`, and the CUDA libraries it loads)",
                options.execution_provider
            )
        })?;
    }
    Ok(builder)
}

/// The execution providers to register, in order. CPU needs none: ONNX Runtime
/// always falls back to it.
fn execution_providers(ep: ExecutionProvider) -> Result<Vec<ExecutionProviderDispatch>, String> {
    match ep {
        ExecutionProvider::Cpu => Ok(Vec::new()),
        // ---- CUDA registration point ----
        // `error_on_failure` makes a missing CUDA library a load error instead of a
        // silent fall back to CPU, so a GPU deployment never runs slow unnoticed.
        #[cfg(feature = "cuda")]
        ExecutionProvider::Cuda { device_id } => Ok(vec![
            ort::ep::CUDA::default()
                .with_device_id(device_id)
                .build()
                .error_on_failure(),
        ]),
        #[cfg(not(feature = "cuda"))]
        ExecutionProvider::Cuda { .. } => {
            Err("CUDA requested but candor-vision was built without the `cuda` feature".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_a_typed_error() {
        // Only meaningful before the runtime is loaded by another test in this process.
        if runtime_library().is_none() {
            let err = init_runtime("/nonexistent/libonnxruntime.so");
            assert!(matches!(err, Err(VisionError::Runtime(_))), "{err:?}");
        }
    }

    #[test]
    fn devices_read_back_as_they_are_written() {
        for ep in [
            ExecutionProvider::Cpu,
            ExecutionProvider::Cuda { device_id: 3 },
        ] {
            assert_eq!(ep.to_string().parse::<ExecutionProvider>(), Ok(ep));
        }
        assert_eq!("cuda".parse(), Ok(ExecutionProvider::Cuda { device_id: 0 }));
        for bad in ["gpu", "cuda:-1", "cuda:x", "cpu:0", ""] {
            assert!(bad.parse::<ExecutionProvider>().is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_model_file_is_a_load_error() {
        let err = build_session(
            Path::new("/nonexistent/model.onnx"),
            &RuntimeOptions::default(),
        );
        assert!(matches!(err, Err(VisionError::ModelLoad { .. })), "{err:?}");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_feature_is_refused() {
        let ep = execution_providers(ExecutionProvider::Cuda { device_id: 0 });
        assert!(ep.is_err());
    }
}
