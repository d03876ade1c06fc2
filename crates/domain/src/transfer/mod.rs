//! Imports and exports: spreadsheets (`.xlsx`, `.csv`) in and out of the CRM, as durable jobs
//! with progress, a per-row error report and resumption after a restart.
//!
//! An import's file is first *staged* ([`stage`]): decoded (UTF-8 with or without a BOM, or
//! Windows-1258, detected), its header row found and mapped to the kind's fields ([`columns`]),
//! and its rows written to a plain UTF-8 CSV beside it, each with the row number the user sees
//! in the original. Then chunks of that CSV are stored, each in one unit of work that also moves
//! the import's cursor (a byte offset), so that a run cut short by a crash resumes after the
//! last chunk it committed and stores no row twice ([`crate::service`]'s `run_import`).
//! Exports walk the records newest first a page at a time and write them as they come
//! ([`write`]): memory stays flat whatever their number.

pub mod columns;
pub mod rows;
pub mod stage;
pub mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::work::{At, Work};

/// The job that runs an import.
pub const IMPORT_JOB: &str = "import";
/// The job that runs an export.
pub const EXPORT_JOB: &str = "export";
/// Rows stored per unit of work.
pub const CHUNK: usize = 250;
/// Most rows one file may hold.
pub const MAX_ROWS: i64 = 2_000_000;
/// Most rows an all-or-nothing import may hold: it is one transaction.
pub const MAX_ALL_OR_NOTHING: i64 = 100_000;
/// Most columns a file may have.
pub const MAX_COLUMNS: usize = 200;
/// Longest cell kept, in characters (a longer one fails its row).
pub const MAX_CELL: usize = 4_000;

/// Import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Import,
    Export,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Import => "import",
            Direction::Export => "export",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Direction::Import, Direction::Export]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// What is brought in or taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Customers,
    Contacts,
    Leads,
    Products,
    /// Export only: orders with their lines.
    Orders,
    /// Export only: campaign send records.
    Messages,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Customers,
        Kind::Contacts,
        Kind::Leads,
        Kind::Products,
        Kind::Orders,
        Kind::Messages,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customers => "customers",
            Kind::Contacts => "contacts",
            Kind::Leads => "leads",
            Kind::Products => "products",
            Kind::Orders => "orders",
            Kind::Messages => "messages",
        }
    }
    pub fn parse(field: &str, s: &str) -> DomainResult<Self> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_lowercase())
            .ok_or_else(|| {
                DomainError::validation(
                    field,
                    "must be customers, contacts, leads, products, orders or messages",
                )
            })
    }
    /// Whether files of this kind can be imported.
    pub fn importable(self) -> bool {
        !matches!(self, Kind::Orders | Kind::Messages)
    }
}

/// A spreadsheet format, from a file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
    pub fn parse(field: &str, s: &str) -> DomainResult<Self> {
        match s.trim().to_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(DomainError::validation(field, "must be csv or xlsx")),
        }
    }
    /// The format a file name's extension names.
    pub fn of_name(name: &str) -> DomainResult<Self> {
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
        Format::parse("file", ext).map_err(|_| {
            DomainError::validation("file", format!("'{name}' is not a .xlsx or .csv file"))
        })
    }
}

/// What an import does with a row that matches a stored record (by phone in any notation,
/// e-mail or code; a product by its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    /// Creates another record anyway.
    Create,
    /// Updates the stored record with the row's non-empty cells.
    Update,
    /// Leaves the stored record alone and reports the row as skipped.
    #[default]
    Skip,
}

impl OnDuplicate {
    pub fn parse(field: &str, s: &str) -> DomainResult<Self> {
        match s.trim().to_lowercase().as_str() {
            "create" => Ok(OnDuplicate::Create),
            "update" => Ok(OnDuplicate::Update),
            "skip" => Ok(OnDuplicate::Skip),
            _ => Err(DomainError::validation(
                field,
                "must be create, update or skip",
            )),
        }
    }
}

/// Who started a transfer: its writes are recorded as theirs, its dates in their zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Starter {
    pub id: Uuid,
    pub name: String,
    pub account: String,
    pub time_zone: String,
}

impl Starter {
    pub fn of(actor: &Actor) -> Self {
        Self {
            id: actor.id,
            name: actor.name.clone(),
            account: actor.account.clone(),
            time_zone: actor.time_zone.name().to_owned(),
        }
    }
    pub fn actor(&self, tenant: TenantId) -> Actor {
        Actor {
            tenant_id: tenant,
            id: self.id,
            name: self.name.clone(),
            account: self.account.clone(),
            time_zone: self
                .time_zone
                .parse()
                .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh),
        }
    }
}

/// How an import runs, as asked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImportOptions {
    #[serde(default)]
    pub on_duplicate: OnDuplicate,
    /// Reports what would happen and writes nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Stores every row or none (one transaction: at most [`MAX_ALL_OR_NOTHING`] rows).
    #[serde(default)]
    pub all_or_nothing: bool,
    /// Header → field, where the automatic mapping is not wanted.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
}

/// What an export takes: the same filters as a search.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExportFilter {
    /// Words, a phone in any notation, an e-mail, as the search endpoints read them.
    #[serde(default)]
    pub search: Option<String>,
    /// Created on or after / before this instant.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// Messages only: one campaign's records.
    #[serde(default)]
    pub campaign: Option<String>,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for its first run.
    Queued,
    Running,
    /// Finished: every row was dealt with (some may have failed: see the report).
    Done,
    /// Could not run at all (an unreadable file, no header, a dry run's all-or-nothing).
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [State::Queued, State::Running, State::Done, State::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An import or an export.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub direction: Direction,
    pub kind: Kind,
    pub format: Format,
    pub state: State,
    /// The file's name as given (an import) or as it will be downloaded (an export).
    pub file_name: String,
    /// [`TransferPlan`] as JSON.
    pub plan: String,
    /// Rows in the file (an import, once staged) or to write (an export); `-1` until known.
    pub total: i64,
    /// Rows dealt with so far.
    pub done: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Where the next chunk starts: a byte offset in the staged rows (an import), or the
    /// integer id below which the next page lies (an export).
    pub cursor: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What a transfer needs to run: who started it, its options, and (once staged) its columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TransferPlan {
    pub starter: Option<Starter>,
    #[serde(default)]
    pub import: ImportOptions,
    #[serde(default)]
    pub export: ExportFilter,
    /// The staged file's columns: for each, the field it maps to (`None`: ignored).
    #[serde(default)]
    pub columns: Vec<Option<String>>,
    /// The header as the file has it (the report repeats it).
    #[serde(default)]
    pub header: Vec<String>,
    /// An export's staged bytes recorded with its cursor (a crash's tail past them is cut).
    #[serde(default)]
    pub written: u64,
}

impl Transfer {
    pub fn plan(&self) -> DomainResult<TransferPlan> {
        serde_json::from_str(&self.plan)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored transfer plan: {e}")))
    }
    pub fn set_plan(&mut self, plan: &TransferPlan) -> DomainResult<()> {
        self.plan = serde_json::to_string(plan).map_err(|e| DomainError::Internal(e.into()))?;
        Ok(())
    }
    /// Done out of total, in percent (0 until the total is known).
    pub fn progress(&self) -> f64 {
        if self.total <= 0 {
            return if self.state == State::Done {
                100.0
            } else {
                0.0
            };
        }
        (self.done as f64 * 100.0 / self.total as f64).min(100.0)
    }
}

/// One rejected row of an import: its number in the original file, the column at fault (its
/// header) and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowFailure {
    pub row: i64,
    pub column: Option<String>,
    pub reason: String,
}

/// The files of a transfer, in a directory of the tenant's own.
pub struct Paths {
    pub dir: PathBuf,
}

impl Paths {
    /// The file as uploaded.
    pub fn source(&self, format: Format) -> PathBuf {
        self.dir.join(format!("source.{}", format.as_str()))
    }
    /// The staged rows (an import).
    pub fn rows(&self) -> PathBuf {
        self.dir.join("rows.csv")
    }
    /// The rejected rows (an import) or the file written (an export).
    pub fn output(&self, format: Format) -> PathBuf {
        self.dir.join(format!("output.{}", format.as_str()))
    }
}

/// Transfers and their rejected rows.
#[async_trait]
pub trait TransferStore: Send + Sync {
    async fn create_transfer(&self, w: &mut Work, t: &Transfer) -> DomainResult<()>;
    /// The transfer, held by the unit of work until it ends.
    async fn lock_transfer(
        &self,
        w: &mut Work,
        tenant: TenantId,
        id: Uuid,
    ) -> DomainResult<Option<Transfer>>;
    async fn save_transfer(&self, w: &mut Work, t: &Transfer) -> DomainResult<()>;
    async fn transfer(
        &self,
        at: At<'_>,
        tenant: TenantId,
        id: Uuid,
    ) -> DomainResult<Option<Transfer>>;
    /// The tenant's transfers of one direction, newest first.
    async fn transfers(
        &self,
        tenant: TenantId,
        direction: Direction,
        limit: u32,
    ) -> DomainResult<Vec<Transfer>>;
    async fn add_failures(
        &self,
        w: &mut Work,
        tenant: TenantId,
        id: Uuid,
        failures: &[RowFailure],
    ) -> DomainResult<()>;
    /// Up to `limit` rejected rows after row `after`, in row order.
    async fn failures(
        &self,
        tenant: TenantId,
        id: Uuid,
        after: i64,
        limit: u32,
    ) -> DomainResult<Vec<RowFailure>>;
    /// The directory of a transfer's files (created when missing).
    fn paths(&self, tenant: TenantId, id: Uuid) -> DomainResult<Paths>;
}
