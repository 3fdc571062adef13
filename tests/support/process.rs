//! The real `candor serve` binary as a child process on loopback ports of its own,
//! for tests that kill it, restart it, or read what it sends outside gRPC.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::repo_root;
use super::server::KEY_A;

/// A `candor serve` child process on loopback ports of its own.
pub struct Serve {
    pub child: Child,
    pub grpc: SocketAddr,
    pub metrics: SocketAddr,
    pub log: PathBuf,
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Serve {
    /// Starts `candor serve` on `data_dir` with tenant A's key and waits until
    /// /healthz says it is serving (bounded: a server that never gets there fails).
    pub async fn start(data_dir: &Path, log: PathBuf) -> Self {
        Self::start_with(data_dir, log, &[]).await
    }

    /// As [`Self::start`], with more flags.
    pub async fn start_with(data_dir: &Path, log: PathBuf, extra: &[&str]) -> Self {
        let (grpc, metrics) = (free_port(), free_port());
        let key = format!("tenant-a:{}", candor_server::hash_key(KEY_A));
        let child = Command::new(env!("CARGO_BIN_EXE_candor"))
            .arg("serve")
            .args(["--listen", &grpc.to_string()])
            .args(["--metrics-listen", &metrics.to_string()])
            .args(["--api-key", &key])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .current_dir(repo_root())
            .env("CANDOR_LOG", "info")
            .env_remove("CANDOR_DATA_DIR")
            .env_remove("CANDOR_API_KEYS")
            .env_remove("CANDOR_OTLP_ENDPOINT")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn candor serve");
        let mut serve = Self {
            child,
            grpc,
            metrics,
            log,
        };
        for _ in 0..1200 {
            if let Some(status) = serve.child.try_wait().unwrap() {
                panic!("candor serve ended ({status}): {}", serve.log_text());
            }
            if http_get(metrics, "/healthz")
                .await
                .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
            {
                return serve;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("candor serve not serving after 120 s: {}", serve.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn metrics(&self) -> String {
        http_get(self.metrics, "/metrics").await.unwrap_or_default()
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown code runs.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }

    /// SIGTERM, as an orchestrator stops a pod, then waits (bounded) for the exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "candor serve still running 60 s after SIGTERM: {}",
            self.log_text()
        );
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plain HTTP/1.1 GET on loopback: the whole answer, or None when it cannot connect.
pub async fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).await.ok()?;
    Some(out)
}
