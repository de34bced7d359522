//! The key/value cache of generation: per layer, preallocated buffers written in place.

use anyhow::Result;
use candle_core::Tensor;

use crate::config::ModelConfig;

/// A growable key/value cache for one layer: preallocated `(B, n_kv, capacity, head_dim)`
/// buffers written in place, so a decode step copies only the new position.
#[derive(Clone, Debug, Default)]
pub struct LayerCache {
    k: Option<Tensor>,
    v: Option<Tensor>,
    len: usize,
}

impl LayerCache {
    /// Write the new positions' keys and values `(B, n_kv, T, head_dim)` after the cached
    /// ones; returns all cached keys and values so far.
    pub(crate) fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let t = k.dim(2)?;
        let need = self.len + t;
        let cap = self.k.as_ref().map(|k| k.dim(2)).transpose()?.unwrap_or(0);
        if need > cap {
            let new_cap = need.max(cap * 2).max(64).next_multiple_of(64);
            let (b, h, _, d) = k.dims4()?;
            let grow = |old: &Option<Tensor>| -> Result<Tensor> {
                let buf = Tensor::zeros((b, h, new_cap, d), k.dtype(), k.device())?;
                if let Some(old) = old {
                    if self.len > 0 {
                        buf.slice_set(&old.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
                    }
                }
                Ok(buf)
            };
            self.k = Some(grow(&self.k)?);
            self.v = Some(grow(&self.v)?);
        }
        let (kb, vb) = match (&self.k, &self.v) {
            (Some(kb), Some(vb)) => (kb, vb),
            _ => anyhow::bail!("kv cache buffers missing"),
        };
        kb.slice_set(&k.contiguous()?, 2, self.len)?;
        vb.slice_set(&v.contiguous()?, 2, self.len)?;
        self.len = need;
        Ok((kb.narrow(2, 0, self.len)?, vb.narrow(2, 0, self.len)?))
    }

    /// Keep only the given batch rows (sequences that are still generating).
    fn retain_rows(&mut self, rows: &Tensor) -> Result<()> {
        if let (Some(k), Some(v)) = (&self.k, &self.v) {
            self.k = Some(k.index_select(rows, 0)?);
            self.v = Some(v.index_select(rows, 0)?);
        }
        Ok(())
    }
}

/// The key/value cache of every layer, plus the number of cached positions.
#[derive(Clone, Debug)]
pub struct KvCache {
    layers: Vec<LayerCache>,
}

impl KvCache {
    pub fn new(cfg: &ModelConfig) -> Self {
        KvCache {
            layers: vec![LayerCache::default(); cfg.num_hidden_layers],
        }
    }
    /// Positions cached so far (columns, including left padding).
    pub fn len(&self) -> usize {
        self.layers.first().map(|l| l.len).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The cache of layer `i`.
    pub(crate) fn layer_mut(&mut self, i: usize) -> &mut LayerCache {
        &mut self.layers[i]
    }
    /// Keep only these batch rows, in this order.
    pub fn retain_rows(&mut self, rows: &[u32]) -> Result<()> {
        let Some(first) = self.layers.iter().find_map(|l| l.k.as_ref()) else {
            return Ok(());
        };
        let idx = Tensor::new(rows, first.device())?;
        for l in &mut self.layers {
            l.retain_rows(&idx)?;
        }
        Ok(())
    }
}
