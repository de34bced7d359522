//! Files beside the database (full weights, recorded by checksum), and the `filehashes` tree
//! that remembers digests of files outside the store.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{anyhow, bail, Context, Result};

use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    /// Where full weights of a checkpoint go, relative to `<home>`: `weights/<run>/<step>/<name>`.
    pub fn weights_path(run: &str, step: u64, name: &str) -> String {
        format!("weights/{run}/{step:08}/{name}")
    }

    /// Writes a file beside the database atomically (temporary file, fsync, rename) and
    /// returns its [`FileInfo`] for a checkpoint manifest.
    pub fn write_file(&self, rel: &str, data: &[u8]) -> Result<FileInfo> {
        let path = self.home.join(checked_relative(rel)?);
        let dir = path
            .parent()
            .ok_or_else(|| anyhow!("`{rel}` has no folder"))?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        {
            let mut f =
                fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(data)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("writing {}", tmp.display()))?;
        }
        fs::rename(&tmp, &path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        sync_dir(dir);
        Ok(FileInfo {
            path: rel.to_string(),
            sha256: sha256_hex(data),
            bytes: data.len() as u64,
        })
    }

    /// Checks a recorded file against its checksum and size; returns its full path.
    pub fn verify_file(&self, f: &FileInfo) -> Result<PathBuf> {
        let path = self.home.join(checked_relative(&f.path)?);
        let (sha, bytes) = sha256_file(&path)?;
        if sha != f.sha256 || bytes != f.bytes {
            bail!(
                "{} is corrupt: SHA-256 {sha} ({bytes} bytes), the checkpoint recorded {} ({} bytes)",
                path.display(),
                f.sha256,
                f.bytes
            );
        }
        Ok(path)
    }

    /// SHA-256 of a file outside the store (a model's weights, a benchmark file), remembered by
    /// its canonical path, size and modification time so that a multi-gigabyte model is read
    /// once, not at every evaluation.
    pub fn file_sha256(&self, path: &Path) -> Result<String> {
        let canon = path
            .canonicalize()
            .with_context(|| format!("cannot read {}", path.display()))?;
        let meta =
            fs::metadata(&canon).with_context(|| format!("cannot read {}", canon.display()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let stamp = format!("{} {mtime} ", meta.len());
        let key = canon.to_string_lossy().into_owned();
        let tree = self.tree(FILEHASHES)?;
        if let Some(v) = tree.get(key.as_bytes()).context("reading the run store")? {
            if let Some(sha) = std::str::from_utf8(&v)
                .ok()
                .and_then(|v| v.strip_prefix(&stamp))
            {
                return Ok(sha.to_string());
            }
        }
        let (sha, _) = sha256_file(&canon)?;
        tree.insert(key.as_bytes(), format!("{stamp}{sha}").as_bytes())
            .context("writing the run store")?;
        Ok(sha)
    }
}
