//! `candor health`: asks a server's gRPC health service whether it serves, for
//! container health checks and exec probes (the image has no other gRPC client).
//! Exit code 0 when SERVING, 1 otherwise (not serving, unreachable, or no answer in
//! time).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::stream::connect;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The server's gRPC address (`https://` for TLS).
    #[arg(
        long,
        env = "CANDOR_HEALTH_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    pub server: String,

    /// CA certificate (PEM) to trust for an `https://` server.
    #[arg(long, env = "CANDOR_CA_CERT")]
    pub ca_cert: Option<PathBuf>,

    /// Seconds to wait for the answer.
    #[arg(long, env = "CANDOR_HEALTH_TIMEOUT_S", default_value_t = 3)]
    pub timeout_s: u64,
}

pub fn run(args: HealthArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let status = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(args.timeout_s.max(1)), check(&args))
            .await
            .context("no answer in time")?
    })?;
    println!("{}", status.as_str_name());
    Ok(if status == ServingStatus::Serving {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn check(args: &HealthArgs) -> Result<ServingStatus> {
    let channel = connect(&args.server, args.ca_cert.as_deref()).await?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .context("health check")?;
    Ok(reply.into_inner().status())
}
