//! `evals` (a run's held-out evaluations), `evalruns` and `evalitems/<eval>` (benchmark
//! evaluations and their items).

use anyhow::{Context, Result};
use sled::transaction::Transactional;

use crate::codec::{decode, encode_json, encode_postcard};
use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    /// Records an evaluation of a run at a step (replacing one of the same step and name).
    pub fn put_eval(&self, run: &str, e: &EvalRecord) -> Result<()> {
        let _w = self.lock();
        self.require_run(run)?;
        self.tree(EVALS)?
            .insert(eval_key(run, e.step, &e.name), encode_postcard(e)?)
            .context("writing the run store")?;
        self.flush()
    }

    /// The evaluations of a run, in (step, name) order.
    pub fn evals(&self, run: &str) -> Result<Vec<EvalRecord>> {
        self.require_run(run)?;
        let mut out = Vec::new();
        for kv in self.tree(EVALS)?.scan_prefix(eval_prefix(run)) {
            let (k, v) = kv.context("reading the run store")?;
            out.push(decode(&v).map_err(|e| corrupt(run, EVALS, &k, e))?);
        }
        Ok(out)
    }

    /// Records (or replaces) an evaluation's header without items.
    pub fn put_eval_run(&self, e: &EvalRun) -> Result<()> {
        validate_run_id(&e.id)?;
        let _w = self.lock();
        self.tree(EVALRUNS)?
            .insert(e.id.as_bytes(), encode_json(e)?)
            .context("writing the run store")?;
        self.tree(&evalitems_tree(&e.id))?;
        self.flush()
    }

    /// An evaluation by id.
    pub fn eval_run(&self, id: &str) -> Result<Option<EvalRun>> {
        match self
            .tree(EVALRUNS)?
            .get(id.as_bytes())
            .context("reading the run store")?
        {
            None => Ok(None),
            Some(v) => Ok(Some(
                decode(&v).map_err(|e| corrupt(id, EVALRUNS, id.as_bytes(), e))?,
            )),
        }
    }

    /// Every evaluation, newest first.
    pub fn list_eval_runs(&self) -> Result<Vec<EvalRun>> {
        let mut out: Vec<EvalRun> = Vec::new();
        for kv in self.tree(EVALRUNS)?.iter() {
            let (k, v) = kv.context("reading the run store")?;
            let id = String::from_utf8_lossy(&k).into_owned();
            out.push(decode(&v).map_err(|e| corrupt(&id, EVALRUNS, &k, e))?);
        }
        out.sort_by(|a, b| {
            b.created_unix
                .cmp(&a.created_unix)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// Stores scored items and the evaluation's updated header in one transaction, flushed
    /// before returning: after a crash the header's `done` and the items agree. An item with
    /// the index of a stored one replaces it.
    pub fn commit_eval_items(&self, e: &EvalRun, items: &[EvalItem]) -> Result<()> {
        validate_run_id(&e.id)?;
        let _w = self.lock();
        let header = encode_json(e)?;
        let values: Vec<([u8; 4], Vec<u8>)> = items
            .iter()
            .map(|it| Ok((it.index.to_be_bytes(), encode_postcard(it)?)))
            .collect::<Result<_>>()?;
        let runs = self.tree(EVALRUNS)?;
        let tree = self.tree(&evalitems_tree(&e.id))?;
        (&runs, &tree)
            .transaction(|(runs, tree)| {
                for (k, v) in &values {
                    tree.insert(&k[..], &v[..])?;
                }
                runs.insert(e.id.as_bytes(), &header[..])?;
                Ok::<(), sled::transaction::ConflictableTransactionError<String>>(())
            })
            .map_err(txn_error)
            .with_context(|| format!("committing items of evaluation `{}`", e.id))?;
        self.flush()
    }

    /// The stored items of an evaluation, in index order.
    pub fn eval_items(&self, id: &str) -> Result<Vec<EvalItem>> {
        let name = evalitems_tree(id);
        let mut out = Vec::new();
        for kv in self.tree(&name)?.iter() {
            let (k, v) = kv.context("reading the run store")?;
            out.push(decode(&v).map_err(|e| corrupt(id, &name, &k, e))?);
        }
        Ok(out)
    }

    /// Deletes an evaluation and its items.
    pub fn delete_eval_run(&self, id: &str) -> Result<()> {
        let _w = self.lock();
        self.tree(EVALRUNS)?
            .remove(id.as_bytes())
            .context("writing the run store")?;
        self.flush()?;
        let name = evalitems_tree(id);
        self.db
            .drop_tree(name.as_bytes())
            .with_context(|| format!("dropping tree `{name}`"))?;
        self.flush()
    }
}
