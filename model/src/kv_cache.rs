//! The key/value cache of generation: per layer, preallocated buffers written in place.
//!
//! A cache of fixed capacity ([`KvCache::with_capacity`]) serves the fixed-shape decode step
//! (`RAIF_STATIC_DECODE=1`, [`crate::Generator::generate_static`]): its buffers never grow, a
//! decode step writes its keys and values at a column held in a device tensor
//! ([`KvCache::set_write_column`]) and attends over the whole capacity under an additive mask,
//! so every step has the same shapes and reads its varying inputs from device memory: what a
//! CUDA graph captured once could replay.

use anyhow::{bail, Result};
use candle_core::{CpuStorage, InplaceOp3, Layout, Tensor};

use crate::config::ModelConfig;

/// A growable key/value cache for one layer: preallocated `(B, n_kv, capacity, head_dim)`
/// buffers written in place, so a decode step copies only the new position.
#[derive(Clone, Debug, Default)]
pub struct LayerCache {
    k: Option<Tensor>,
    v: Option<Tensor>,
    len: usize,
    /// A fixed capacity: the buffers are allocated at it and never grow.
    fixed: Option<usize>,
    /// A fixed-shape step: write the one new position at this column (a `(1,)` u32 tensor)
    /// and hand back the whole buffers.
    column: Option<Tensor>,
}

impl LayerCache {
    /// Write the new positions' keys and values `(B, n_kv, T, head_dim)` after the cached
    /// ones; returns all cached keys and values so far.
    pub(crate) fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let t = k.dim(2)?;
        let need = self.len + t;
        let cap = self.k.as_ref().map(|k| k.dim(2)).transpose()?.unwrap_or(0);
        if let (Some(col), Some(kb), Some(vb)) = (&self.column, &self.k, &self.v) {
            if t != 1 || need > cap {
                bail!("kv cache: a fixed-shape step writes one position within the capacity {cap}");
            }
            write_column(kb, k, col)?;
            write_column(vb, v, col)?;
            self.len = need;
            return Ok((kb.clone(), vb.clone()));
        }
        if need > cap {
            if let Some(fixed) = self.fixed {
                if cap > 0 || need > fixed {
                    bail!("kv cache: {need} positions do not fit the fixed capacity {fixed}");
                }
            }
            let new_cap = match self.fixed {
                Some(fixed) => fixed,
                None => need.max(cap * 2).max(64).next_multiple_of(64),
            };
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

    /// Whether fixed-shape steps write at a device-held column ([`KvCache::set_write_column`]).
    pub(crate) fn has_column(&self) -> bool {
        self.column.is_some() && self.k.is_some()
    }

    /// A fixed-shape step of one position (a write column set): takes the position and hands
    /// back the whole key and value buffers and the column, for a caller that writes them
    /// itself ([`crate::ops::infer::rope_kv_write`]). `None` without a column.
    pub(crate) fn column_step(&mut self) -> Result<Option<(Tensor, Tensor, Tensor)>> {
        let (Some(col), Some(kb), Some(vb)) = (&self.column, &self.k, &self.v) else {
            return Ok(None);
        };
        let cap = kb.dim(2)?;
        if self.len + 1 > cap {
            bail!("kv cache: a fixed-shape step writes one position within the capacity {cap}");
        }
        self.len += 1;
        Ok(Some((kb.clone(), vb.clone(), col.clone())))
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
    /// Bumped whenever the buffers are replaced (rows retained): a captured decode step holds
    /// their addresses and is valid for one generation only.
    generation: u64,
}

impl KvCache {
    pub fn new(cfg: &ModelConfig) -> Self {
        KvCache {
            layers: vec![LayerCache::default(); cfg.num_hidden_layers],
            generation: 0,
        }
    }

    /// A cache whose buffers hold exactly `capacity` positions (allocated by the first
    /// forward, never grown: more positions are an error).
    pub fn with_capacity(cfg: &ModelConfig, capacity: usize) -> Self {
        let layer = LayerCache {
            fixed: Some(capacity),
            ..LayerCache::default()
        };
        KvCache {
            layers: vec![layer; cfg.num_hidden_layers],
            generation: 0,
        }
    }

    /// The fixed capacity, if this cache has one.
    pub fn capacity(&self) -> Option<usize> {
        self.layers.first().and_then(|l| l.fixed)
    }

    /// Fixed-shape steps: the next forwards (one position each) write their keys and values
    /// at the column `column` holds (`(1,)` u32, on the model's device) and attend over the
    /// whole capacity, so the caller's mask covers all of it. `None`: back to appending.
    pub fn set_write_column(&mut self, column: Option<&Tensor>) -> Result<()> {
        if column.is_some() && self.capacity().is_none() {
            bail!("kv cache: fixed-shape steps need a cache of fixed capacity");
        }
        for l in &mut self.layers {
            l.column = column.cloned();
        }
        Ok(())
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
        self.generation += 1;
        Ok(())
    }

    /// Which buffers the cache holds: changes when [`KvCache::retain_rows`] replaces them.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Set the cached length of every layer: a replayed decode step wrote one more position
    /// on the device without running the forward's bookkeeping, or a failed capture recorded
    /// one it never wrote. Within the capacity only.
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    pub(crate) fn set_len(&mut self, len: usize) -> Result<()> {
        if self.capacity().is_some_and(|cap| len > cap) {
            bail!("kv cache: {len} positions do not fit the fixed capacity");
        }
        for l in &mut self.layers {
            l.len = len;
        }
        Ok(())
    }
}

/// `buf[.., .., column, ..] = src` in place, `buf (B, H, capacity, D)`, `src (B, H, 1, D)`,
/// the column read from the `(1,)` u32 tensor `column` on the buffers' device. CPU: one op that
/// reads the column from the tensor; CUDA: one kernel that reads it from device memory (what a
/// captured graph replays); elsewhere the column is read back to the host and written with
/// `slice_set`.
pub(crate) fn write_column(buf: &Tensor, src: &Tensor, column: &Tensor) -> Result<()> {
    let src = src.contiguous()?;
    if buf.device().is_cpu() {
        buf.inplace_op3(&src, column, &WriteColumn)?;
        return Ok(());
    }
    #[cfg(feature = "cuda")]
    if crate::ops::cuda::ops_apply(&[buf, &src]) {
        return crate::ops::cuda_infer::kv_write(buf, &src, column);
    }
    let c = column.to_vec1::<u32>()?.first().copied().unwrap_or(0) as usize;
    buf.slice_set(&src, 2, c)?;
    Ok(())
}

/// The CPU body of [`write_column`]: the column read from its tensor, then one `D`-wide copy
/// per (sequence, head), any float dtype.
struct WriteColumn;

fn copy_column<T: Copy>(
    dst: &mut [T],
    ld: &Layout,
    src: &[T],
    ls: &Layout,
    column: usize,
) -> candle_core::Result<()> {
    let (Some((d0, d1)), Some((s0, s1))) = (ld.contiguous_offsets(), ls.contiguous_offsets())
    else {
        candle_core::bail!("kv write: buffers must be contiguous");
    };
    let (b, h, cap, d) = ld.shape().dims4()?;
    if ls.shape().dims4()? != (b, h, 1, d) || column >= cap {
        candle_core::bail!(
            "kv write: {:?} at column {column} into {:?}",
            ls.shape(),
            ld.shape()
        );
    }
    let (dst, src) = (&mut dst[d0..d1], &src[s0..s1]);
    for (i, row) in src.chunks_exact(d.max(1)).enumerate() {
        let at = (i * cap + column) * d;
        dst[at..at + d].copy_from_slice(row);
    }
    Ok(())
}

impl InplaceOp3 for WriteColumn {
    fn name(&self) -> &'static str {
        "kv-write-column"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        let column = match (s3, l3.contiguous_offsets()) {
            (CpuStorage::U32(c), Some((c0, c1))) if c1 > c0 => c[c0] as usize,
            _ => candle_core::bail!("kv write: the column must be a (1,) u32 tensor"),
        };
        match (s1, s2) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) => copy_column(d, l1, s, l2, column),
            (CpuStorage::BF16(d), CpuStorage::BF16(s)) => copy_column(d, l1, s, l2, column),
            (CpuStorage::F16(d), CpuStorage::F16(s)) => copy_column(d, l1, s, l2, column),
            (CpuStorage::F64(d), CpuStorage::F64(s)) => copy_column(d, l1, s, l2, column),
            _ => candle_core::bail!("kv write: the buffer and the new position differ in dtype"),
        }
    }
}
