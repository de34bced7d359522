//! `metrics/<run>`: one [`Metrics`] map per step.

use anyhow::{anyhow, Context, Result};

use crate::codec::decode;
use crate::db::*;
use crate::keys::*;
use crate::types::*;

impl Store {
    /// The metrics of every committed step, in step order.
    pub fn metrics(&self, run: &str) -> Result<Vec<(u64, Metrics)>> {
        self.require_run(run)?;
        let name = metrics_tree(run);
        let tree = self.tree(&name)?;
        let mut out = Vec::new();
        for kv in tree.iter() {
            let (k, v) = kv.context("reading the run store")?;
            let step = step_of(&k)
                .ok_or_else(|| corrupt(run, &name, &k, anyhow!("the key is not a step")))?;
            out.push((step, decode(&v).map_err(|e| corrupt(run, &name, &k, e))?));
        }
        Ok(out)
    }

    /// The metrics of one step.
    pub fn step_metrics(&self, run: &str, step: u64) -> Result<Option<Metrics>> {
        self.require_run(run)?;
        let name = metrics_tree(run);
        let k = step.to_be_bytes();
        match self.tree(&name)?.get(k).context("reading the run store")? {
            None => Ok(None),
            Some(v) => Ok(Some(decode(&v).map_err(|e| corrupt(run, &name, &k, e))?)),
        }
    }
}
