//! `candor admin`: privacy and retention operations on the result store — purge a
//! session or everything about a candidate now, run the retention sweep, and set a
//! tenant's retention and capture settings.

use anyhow::{Context, Result, bail};
use candor_server::persist::storage_id;
use candor_store::{PurgeReport, TenantSettings};
use clap::{Args, Subcommand};

use crate::settings::StoreArgs;

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: AdminCommand,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Delete one session, or every session, enrolment and blocklist entry of a
    /// candidate, now; prints
    /// what was deleted.
    Purge(PurgeArgs),
    /// Delete what is older than each tenant's retention period now (the server also
    /// does this periodically); prints what was deleted.
    Sweep,
    /// Show a tenant's settings, changing those given.
    Tenant(TenantArgs),
    /// Print a tenant's audit log, newest first, one JSON object a line: reads of
    /// stored results and identity matches, with who and when.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long, env = "CANDOR_TENANT")]
    pub tenant: String,

    /// Lines to print at most.
    #[arg(long, env = "CANDOR_AUDIT_LIMIT", default_value_t = 100)]
    pub limit: u32,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["session", "candidate"])))]
pub struct PurgeArgs {
    /// The tenant that owns the data.
    #[arg(long, env = "CANDOR_TENANT")]
    pub tenant: String,

    /// Session id, as the client chose it.
    #[arg(long, env = "CANDOR_PURGE_SESSION")]
    pub session: Option<String>,

    /// Candidate reference: all their sessions, identity enrolments and blocklist
    /// entries go.
    #[arg(long, env = "CANDOR_PURGE_CANDIDATE")]
    pub candidate: Option<String>,
}

#[derive(Debug, Args)]
pub struct TenantArgs {
    #[arg(long, env = "CANDOR_TENANT")]
    pub tenant: String,

    /// Days sessions and batch jobs are kept (1-36500; default 30).
    #[arg(long, env = "CANDOR_RETENTION_DAYS")]
    pub retention_days: Option<u32>,

    /// Whether evidence media (e.g. frames of an alert) may be stored.
    #[arg(long, env = "CANDOR_EVIDENCE_CAPTURE")]
    pub evidence_capture: Option<bool>,

    /// Whether identity embeddings (biometric data) may be stored.
    #[arg(long, env = "CANDOR_ENROLMENT")]
    pub enrolment: Option<bool>,

    /// Whether sessions are searched against the tenant's other enrolled candidates
    /// and its blocklist, and session identities are kept for blocklisting.
    #[arg(long, env = "CANDOR_DUPLICATE_SEARCH")]
    pub duplicate_search: Option<bool>,
}

pub fn run(args: AdminArgs) -> Result<()> {
    let store = args.store.open()?;
    match args.command {
        AdminCommand::Purge(p) => {
            let (what, report) = match (&p.session, &p.candidate) {
                (Some(id), None) => (
                    format!("session {id:?}"),
                    store
                        .purge_session(&p.tenant, &storage_id(id))
                        .with_context(|| {
                            format!("purging session {id:?} of tenant {:?}", p.tenant)
                        })?,
                ),
                (None, Some(c)) => (
                    format!("candidate {c:?}"),
                    store.purge_candidate(&p.tenant, c).with_context(|| {
                        format!("purging candidate {c:?} of tenant {:?}", p.tenant)
                    })?,
                ),
                _ => bail!("give exactly one of --session and --candidate"),
            };
            println!("purged {what} of tenant {:?}", p.tenant);
            print_report(&report);
        }
        AdminCommand::Sweep => {
            let report = store.sweep_expired(candor_store::now_ms())?;
            println!("retention sweep");
            print_report(&report);
        }
        AdminCommand::Tenant(t) => {
            let mut s: TenantSettings = store.tenant_settings(&t.tenant)?;
            let changed = t.retention_days.is_some()
                || t.evidence_capture.is_some()
                || t.enrolment.is_some()
                || t.duplicate_search.is_some();
            s.retention_days = t.retention_days.unwrap_or(s.retention_days);
            s.evidence_capture = t.evidence_capture.unwrap_or(s.evidence_capture);
            s.enrolment_enabled = t.enrolment.unwrap_or(s.enrolment_enabled);
            s.duplicate_search = t.duplicate_search.unwrap_or(s.duplicate_search);
            if changed {
                store.upsert_tenant(&s)?;
            }
            println!("tenant {:?}", s.tenant);
            println!("  retention_days     {}", s.retention_days);
            println!("  evidence_capture   {}", s.evidence_capture);
            println!("  enrolment_enabled  {}", s.enrolment_enabled);
            println!("  duplicate_search   {}", s.duplicate_search);
        }
        AdminCommand::Audit(a) => {
            for line in store.audit_log(&a.tenant, a.limit)? {
                println!("{}", serde_json::to_string(&line)?);
            }
        }
    }
    Ok(())
}

fn print_report(r: &PurgeReport) {
    for (what, n) in r.counts() {
        println!("  {what:<15} {n}");
    }
}
