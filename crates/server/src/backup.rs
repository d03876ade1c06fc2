//! `crm backup FILE` and `crm restore FILE`: one tar archive holding a consistent copy of the
//! database, taken while the server runs, and the uploaded, imported and exported files.
//!
//! - SQLite: `VACUUM INTO` from a read connection (writers go on; the copy is the database as
//!   of one instant), as `crm.db`.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot), as `crm.pgdump`, restored with
//!   `pg_restore`; both come with Debian's `postgresql-client`, and their absence is said.
//!
//! The database is copied first, then the files directory: every file a copied row names was
//! written before its row committed, so it is in the archive (files added later may be too).
//! A restore goes only into a database without tenants. See `docs/operations.md`.

use std::fs::File;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use crm_store::db::{Db, PoolSettings};
use serde_json::json;

use crate::config::Config;

const MANIFEST: &str = "backup.json";
const SQLITE_MEMBER: &str = "crm.db";
const PG_MEMBER: &str = "crm.pgdump";
const FILES: &str = "files";

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Runs a PostgreSQL client program, saying so plainly when it is not installed.
fn run_pg_tool(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "{program} is not installed: PostgreSQL backups need it \
                 (Debian: apt-get install postgresql-client, of the server's major version)"
            ),
            _ => anyhow::anyhow!("running {program}: {e}"),
        })?;
    if !out.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// What `crm backup` wrote.
pub struct Written {
    pub bytes: u64,
    pub files: u64,
    pub backend: &'static str,
}

/// Writes the archive `to` (through `to.partial`, renamed when complete), owner-only.
pub async fn backup(config: &Config, db: &Db, to: &Path) -> anyhow::Result<Written> {
    let work = tempfile::Builder::new()
        .prefix(".crm-backup")
        .tempdir_in(
            to.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .context("making a working directory beside the backup")?;
    let backend = db.backend_name();
    let member = if is_postgres(&config.database_url) {
        let dump = work.path().join(PG_MEMBER);
        let (url, dump_s) = (
            config.direct_url().to_owned(),
            dump.to_string_lossy().into_owned(),
        );
        tokio::task::spawn_blocking(move || {
            run_pg_tool(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    &dump_s,
                    "--dbname",
                    &url,
                ],
            )
        })
        .await??;
        (PG_MEMBER, dump)
    } else {
        let copy = work.path().join(SQLITE_MEMBER);
        db.snapshot_sqlite(&copy).await?;
        (SQLITE_MEMBER, copy)
    };
    let manifest = json!({
        "format": 1,
        "backend": backend,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "server": env!("CARGO_PKG_VERSION"),
    });
    let files_dir = config.files_dir.clone();
    let to = to.to_owned();
    let partial = to.with_extension("partial");
    tokio::task::spawn_blocking(move || -> anyhow::Result<Written> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let out = options
            .open(&partial)
            .with_context(|| format!("writing {}", partial.display()))?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(out));
        let text = serde_json::to_vec_pretty(&manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, text.as_slice())?;
        tar.append_path_with_name(&member.1, member.0)?;
        let mut files = 0;
        if files_dir.is_dir() {
            for entry in walk(&files_dir)? {
                let rel = entry.strip_prefix(&files_dir)?;
                tar.append_path_with_name(&entry, Path::new(FILES).join(rel))?;
                files += 1;
            }
        }
        let mut w = tar.into_inner()?;
        w.flush()?;
        w.into_inner()
            .map_err(|e| anyhow::anyhow!("writing the backup: {e}"))?
            .sync_all()?;
        std::fs::rename(&partial, &to)?;
        Ok(Written {
            bytes: std::fs::metadata(&to)?.len(),
            files,
            backend,
        })
    })
    .await?
}

/// Every regular file under `dir`, depth first.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A member's path under `files/`, when it is one and stays inside it.
fn file_member(path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(FILES).ok()?;
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    (safe && rel.components().next().is_some()).then(|| rel.to_owned())
}

/// An archive unpacked to a working directory: its manifest, its database member, and its
/// files (where each was unpacked, where it goes under the files directory).
type Unpacked = (serde_json::Value, PathBuf, Vec<(PathBuf, PathBuf)>);

/// What `crm restore` put back.
pub struct Restored {
    pub backend: String,
    pub files: u64,
}

/// Restores the archive `from` into the configured database (which must hold no tenant) and
/// files directory. Runs before the server opens the database; the next start migrates it.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<Restored> {
    let postgres = is_postgres(&config.database_url);
    let work = tempfile::Builder::new()
        .prefix(".crm-restore")
        .tempdir_in(
            config
                .files_dir
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .or_else(|_| tempfile::tempdir())
        .context("making a working directory")?;
    // Unpack: the manifest and database member to the working directory, files into place
    // once the database is known to be restorable (below).
    let staged = work.path().to_owned();
    let from_owned = from.to_owned();
    let (manifest, db_member, files) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<Unpacked> {
            let mut archive = tar::Archive::new(std::io::BufReader::new(
                File::open(&from_owned)
                    .with_context(|| format!("opening {}", from_owned.display()))?,
            ));
            let mut manifest = None;
            let mut db_member = None;
            let mut files = Vec::new();
            for (i, entry) in archive.entries()?.enumerate() {
                let mut entry = entry?;
                let path = entry.path()?.into_owned();
                if path == Path::new(MANIFEST) {
                    let mut text = String::new();
                    std::io::Read::read_to_string(&mut entry, &mut text)?;
                    manifest = Some(serde_json::from_str::<serde_json::Value>(&text)?);
                } else if path == Path::new(SQLITE_MEMBER) || path == Path::new(PG_MEMBER) {
                    let to = staged.join(&path);
                    entry.unpack(&to)?;
                    db_member = Some(to);
                } else if let Some(rel) = file_member(&path) {
                    let to = staged.join(FILES).join(format!("{i}"));
                    crm_store::files_private_dir(staged.join(FILES).as_path())?;
                    entry.unpack(&to)?;
                    files.push((to, rel));
                } else {
                    bail!("{} is not part of a crm backup", path.display());
                }
            }
            let manifest = manifest.context("not a crm backup: no backup.json")?;
            let db_member = db_member.context("the backup holds no database")?;
            Ok((manifest, db_member, files))
        })
        .await??;
    let backend = manifest["backend"].as_str().unwrap_or_default().to_owned();
    let want = if postgres { "postgres" } else { "sqlite" };
    if backend != want {
        bail!("the backup is of a {backend} database; --database-url names a {want} one");
    }
    // Only into a database without tenants.
    let settings = PoolSettings::default();
    if postgres {
        let db = Db::connect(config.direct_url(), settings).await?;
        let has_schema = db.has_table("tenants").await?;
        if has_schema && db.has_tenants().await? {
            db.close().await;
            bail!("the database already holds tenants: restore into an empty database");
        }
        db.close().await;
        let url = config.direct_url().to_owned();
        let dump = db_member.to_string_lossy().into_owned();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
            ];
            if has_schema {
                args.extend(["--clean", "--if-exists"]);
            }
            args.extend(["--dbname", &url, &dump]);
            run_pg_tool("pg_restore", &args)
        })
        .await??;
    } else {
        let path = crm_store::db::sqlite_path(&config.database_url)?;
        if path.exists() {
            let db = Db::connect(&config.database_url, settings).await?;
            let occupied = db.has_table("tenants").await? && db.has_tenants().await?;
            db.close().await;
            if occupied {
                bail!(
                    "{} already holds tenants: restore into an empty database",
                    path.display()
                );
            }
            for side in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{side}", path.display()));
                if p.exists() {
                    std::fs::remove_file(&p)?;
                }
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crm_store::files_private_dir(dir)?;
        }
        std::fs::copy(&db_member, &path).with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    let mut count = 0;
    for (staged, rel) in files {
        let to = config.files_dir.join(&rel);
        if let Some(dir) = to.parent() {
            crm_store::files_private_dir(dir)?;
        }
        std::fs::rename(&staged, &to)
            .or_else(|_| std::fs::copy(&staged, &to).map(|_| ()))
            .with_context(|| format!("writing {}", to.display()))?;
        count += 1;
    }
    Ok(Restored {
        backend,
        files: count,
    })
}
