//! `crm import` and `crm export`: the same transfers as `/crm/v1/imports` and
//! `/crm/v1/exports`, run in the foreground with a progress bar (rows, rows/s, time left). The
//! job each one enqueues is a fallback, due minutes later: an import cut short (Ctrl-C, a
//! crash) is finished by a running server, without any row twice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use crm_domain::transfer::{
    ExportFilter, Format, ImportOptions, Kind, OnDuplicate, State, Transfer,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::config::{ExportArgs, ImportArgs};

fn bar(json: bool) -> ProgressBar {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} rows  {per_sec}  {eta} left  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn show(bar: &ProgressBar, t: &Transfer) {
    if t.total >= 0 {
        bar.set_length(u64::try_from(t.total).unwrap_or(0));
    }
    bar.set_position(u64::try_from(t.done).unwrap_or(0));
    bar.set_message(format!(
        "{} created, {} updated, {} skipped, {} failed",
        t.created, t.updated, t.skipped, t.failed
    ));
}

fn summary(t: &Transfer, file: Option<&Path>) -> serde_json::Value {
    json!({
        "id": t.id, "kind": t.kind.as_str(), "state": t.state.as_str(), "total": t.total,
        "done": t.done, "created": t.created, "updated": t.updated, "skipped": t.skipped,
        "failed": t.failed, "error": t.error, "file": file.map(|f| f.display().to_string()),
    })
}

pub async fn import(app: &crate::App, args: ImportArgs) -> anyhow::Result<()> {
    let actor = crate::cli::operator(app, &args.tenant).await?;
    let crm = &app.state.crm;
    let kind = Kind::parse("kind", &args.kind)?;
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the file has no name")?
        .to_owned();
    let format = Format::of_name(&name)?;
    let mapping = match &args.mapping {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .context("the mapping file must be a JSON object of header → field")?,
        None => Default::default(),
    };
    let options = ImportOptions {
        on_duplicate: OnDuplicate::parse("--on-duplicate", &args.on_duplicate)?,
        dry_run: args.dry_run,
        all_or_nothing: args.all_or_nothing,
        mapping,
    };
    let id = uuid::Uuid::now_v7();
    let paths = crm.transfer_paths(&actor, id)?;
    std::fs::copy(&args.file, paths.source(format))
        .with_context(|| format!("reading {}", args.file.display()))?;
    crm.start_import(&actor, id, kind, &name, options, true)
        .await?;
    let bar = bar(args.json);
    let shown = bar.clone();
    crm.run_import(actor.tenant_id, id, Duration::MAX, true, &move |t| {
        show(&shown, t)
    })
    .await?;
    bar.finish_and_clear();
    let t = crm.transfer(&actor, id).await?;
    let report = match crm.transfer_output(&actor, id).await {
        Ok((path, report_name)) => {
            let target = args.report.clone().unwrap_or_else(|| {
                args.file
                    .parent()
                    .map_or_else(|| PathBuf::from(&report_name), |d| d.join(&report_name))
            });
            std::fs::copy(&path, &target)
                .with_context(|| format!("writing the report {}", target.display()))?;
            Some(target)
        }
        Err(_) => None,
    };
    if args.json {
        println!("{}", summary(&t, report.as_deref()));
    } else {
        let verb = if t.state == State::Failed {
            "failed"
        } else if args.dry_run {
            "dry run"
        } else {
            "imported"
        };
        println!(
            "{verb}: {} rows; {} created, {} updated, {} skipped, {} failed",
            t.done, t.created, t.updated, t.skipped, t.failed
        );
        if let Some(e) = &t.error {
            println!("  {e}");
        }
        if let Some(r) = &report {
            println!("  rows not imported, with why: {}", r.display());
        }
    }
    if t.state == State::Failed {
        anyhow::bail!(t.error.unwrap_or_else(|| "the import failed".to_owned()));
    }
    Ok(())
}

pub async fn export(app: &crate::App, args: ExportArgs) -> anyhow::Result<()> {
    let actor = crate::cli::operator(app, &args.tenant).await?;
    let crm = &app.state.crm;
    let kind = Kind::parse("kind", &args.kind)?;
    let format = match (&args.format, &args.output) {
        (Some(f), _) => Format::parse("--format", f)?,
        (None, Some(o)) => Format::of_name(&o.display().to_string()).unwrap_or(Format::Xlsx),
        (None, None) => Format::Xlsx,
    };
    let day =
        |s: &Option<String>, end: bool| -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
            let Some(s) = s else { return Ok(None) };
            let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y"))
                .with_context(|| format!("'{s}' is not a date (yyyy-mm-dd or dd/mm/yyyy)"))?;
            let t = if end {
                d.and_hms_opt(23, 59, 59)
            } else {
                d.and_hms_opt(0, 0, 0)
            }
            .context("a day has a start")?;
            Ok(crm_domain::common::local_instant(actor.time_zone, t))
        };
    let filter = ExportFilter {
        search: args.search.clone(),
        from: day(&args.from, false)?,
        to: day(&args.to, true)?,
        campaign: args.campaign.clone(),
    };
    let t = crm.start_export(&actor, kind, format, filter, true).await?;
    let bar = bar(args.json);
    let shown = bar.clone();
    crm.run_export(actor.tenant_id, t.id, Duration::MAX, true, &move |t| {
        show(&shown, t)
    })
    .await?;
    bar.finish_and_clear();
    let (path, name) = crm.transfer_output(&actor, t.id).await?;
    let target = args.output.clone().unwrap_or_else(|| PathBuf::from(&name));
    std::fs::copy(&path, &target).with_context(|| format!("writing {}", target.display()))?;
    let t = crm.transfer(&actor, t.id).await?;
    if args.json {
        println!("{}", summary(&t, Some(&target)));
    } else {
        println!("exported {} rows to {}", t.done, target.display());
    }
    Ok(())
}
