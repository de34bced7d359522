//! The store itself: the sled database of a home folder, opened once per process, and the
//! helpers every tree's file shares.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use sled::transaction::TransactionError;
use sled::Tree;

/// The run store of one `--home`.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: sled::Db,
    pub(crate) home: PathBuf,
    pub(crate) path: PathBuf,
    /// Serialises writers of this process: a commit reads the keys it replaces before its
    /// transaction, and nobody may add any in between.
    pub(crate) write: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A path relative to `<home>` that stays inside it.
pub(crate) fn checked_relative(rel: &str) -> Result<&Path> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("`{rel}` must be a relative path inside the home folder (no `..`, no root)");
    }
    Ok(p)
}

pub(crate) fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

pub(crate) fn sync_dir(dir: &Path) {
    // Best effort: makes the rename durable on filesystems that need it.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

pub(crate) fn txn_error(e: TransactionError<String>) -> anyhow::Error {
    match e {
        TransactionError::Abort(msg) => anyhow!(msg),
        TransactionError::Storage(e) => anyhow!(e).context("writing the run store"),
    }
}

/// Lock retries (50 ms apart) before a store held elsewhere is reported.
pub(crate) const LOCK_RETRIES: usize = 40;

impl Store {
    /// Opens or creates `<home>/store`. If another process holds the database, the error says
    /// so plainly ("another raif is using <path>: stop it or use --home").
    pub fn open(home: &Path) -> Result<Store> {
        fs::create_dir_all(home)
            .with_context(|| format!("creating the home folder {}", home.display()))?;
        let path = home.join("store");
        let config = sled::Config::new().path(&path).cache_capacity(256 << 20);
        // sled's background flusher keeps the file lock for a moment after the last handle is
        // dropped, so a store closed and reopened by this process can find it still held:
        // wait briefly before concluding that another process has it.
        let mut tries = 0;
        let opened = loop {
            match config.open() {
                Err(e)
                    if tries < LOCK_RETRIES && e.to_string().contains("could not acquire lock") =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other,
            }
        };
        let db = opened.map_err(|e| {
            let text = e.to_string();
            if text.contains("could not acquire lock") {
                anyhow!(
                    "another raif is using {}: stop it or use --home",
                    path.display()
                )
            } else {
                anyhow!(e).context(format!("opening the run store {}", path.display()))
            }
        })?;
        Ok(Store {
            db,
            home: home.to_path_buf(),
            path,
            write: Arc::new(Mutex::new(())),
        })
    }

    /// The home folder this store belongs to.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// `<home>/store`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        // A writer that panicked held no sled state across the panic: carry on.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn tree(&self, name: &str) -> Result<Tree> {
        self.db
            .open_tree(name)
            .with_context(|| format!("opening tree `{name}` of {}", self.path.display()))
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().context("flushing the run store")?;
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().context("reading the run store")
    }
}
