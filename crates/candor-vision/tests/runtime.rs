//! Runtime initialisation against the real ONNX Runtime library.

use std::path::PathBuf;

use candor_vision::runtime::{ORT_DYLIB_ENV, init_runtime, runtime_library};

#[test]
fn init_is_idempotent_and_keeps_the_first_library() {
    let path = PathBuf::from(
        std::env::var_os(ORT_DYLIB_ENV).expect("ORT_DYLIB_PATH is set by .cargo/config.toml"),
    );
    init_runtime(&path).expect("first init");
    init_runtime(&path).expect("second init is a no-op");
    // A process can load one library only: another path is ignored, not an error.
    init_runtime("/elsewhere/libonnxruntime.so").expect("ignored");
    assert_eq!(runtime_library(), Some(path.as_path()));
}
