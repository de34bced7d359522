//! CUDA graphs of the fixed-shape decode step (issue #25).
//!
//! At batch 1 a decode step of a 1.5B model launches about 750 kernels, and the host takes
//! about half of the step launching them. The fixed-shape step ([`crate::kv_cache`]) gives
//! every step of one batch size the same shapes and reads what varies (token ids, positions,
//! the write column, the mask) from device buffers, so one capture of its kernels can be
//! replayed for every later step at that batch size: one launch instead of hundreds.
//!
//! Per batch size (the fixed-shape batch keeps finished rows as dead slots and shrinks only to
//! power-of-two buckets, [`crate::generate::bucket`]):
//! 1. the first step copies its inputs into buffers kept for the batch size and runs eagerly,
//!    with candle's cache of small host-to-device uploads (kernel layout parameters) on, so
//!    that a capture of the same shapes needs no upload;
//! 2. the second step copies its inputs into those buffers and captures the forward (its
//!    logits copied into a kept buffer, every other tensor freed inside the capture), then
//!    launches the graph;
//! 3. every later step copies its inputs and launches the graph, and advances the cache's
//!    length on the host (the forward's own bookkeeping did not run).
//!
//! A graph holds the addresses of the cache's buffers, so it is kept only while the cache keeps
//! them ([`KvCache::generation`]). Any failure to capture switches graphs off for the rest of
//! the call, restores the cache's length and takes the eager step: the fallback. On the CPU
//! (and with `RAIF_CUDA_GRAPH=0`) every step is eager.

use anyhow::Result;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::kv_cache::KvCache;
use crate::transformer::{padded_inputs, static_step_inputs, Batch, ForwardOptions, Transformer};

/// What the graphs did over one generation call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphStats {
    /// Graphs captured (one per batch size and cache).
    pub captured: usize,
    /// Decode steps that replayed a captured graph (the capturing step not counted).
    pub replayed: usize,
    /// Why graphs were switched off, if they were.
    pub fallback: Option<String>,
}

/// One fixed-shape decode step's inputs: `(B, 1)` token ids and positions, the `(1,)` u32
/// write column and the `(B, 1, capacity)` additive mask.
pub struct StepInputs {
    pub ids: Tensor,
    pub pos: Tensor,
    pub column: Tensor,
    pub mask: Tensor,
}

/// The step's logits `(B, vocab)`, the forward's kernels launched one by one; the cache writes
/// at `inputs.column`.
pub fn eager_step(model: &Transformer, cache: &mut KvCache, inputs: &StepInputs) -> Result<Tensor> {
    cache.set_write_column(Some(&inputs.column))?;
    forward(model, cache, inputs)
}

fn forward(model: &Transformer, cache: &mut KvCache, inputs: &StepInputs) -> Result<Tensor> {
    decode_logits(model, cache, &inputs.ids, &inputs.pos, &inputs.mask)
}

/// The logits `(B, vocab)` of a decode step of one position per row (ids and positions
/// `(B, 1)`), continuing the cache.
pub fn decode_logits(
    model: &Transformer,
    cache: &mut KvCache,
    ids: &Tensor,
    pos: &Tensor,
    mask: &Tensor,
) -> Result<Tensor> {
    let batch = Batch {
        input_ids: ids,
        positions: pos,
        mask,
    };
    let hidden = model.forward_hidden(&batch, Some(cache), &ForwardOptions::fused())?;
    model.logits(&hidden.squeeze(1)?)
}

/// The decode steps of one generation call, captured and replayed where the device allows.
pub struct DecodeGraphs {
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    on: bool,
    #[cfg(feature = "cuda")]
    by_size: std::collections::HashMap<usize, cuda::Slot>,
    pub stats: GraphStats,
}

impl DecodeGraphs {
    /// Graphs on a CUDA device (a build with the `cuda` feature) unless `RAIF_CUDA_GRAPH=0`.
    pub fn new(device: &Device) -> Self {
        let on = cfg!(feature = "cuda")
            && device.is_cuda()
            && std::env::var("RAIF_CUDA_GRAPH").as_deref() != Ok("0");
        DecodeGraphs {
            on,
            #[cfg(feature = "cuda")]
            by_size: Default::default(),
            stats: GraphStats::default(),
        }
    }

    /// The logits `(B, vocab)` of one decode step of the tokens `rows` (one each) with left
    /// pads `pads`: the fixed-shape step (captured and replayed where it can be) when the cache
    /// has a fixed capacity, else the growing cache's step. Read them before the next step.
    pub fn decode(
        &mut self,
        model: &Transformer,
        cache: &mut KvCache,
        rows: &[&[u32]],
        pads: &[usize],
    ) -> Result<Tensor> {
        let device = model.device();
        match cache.capacity() {
            Some(cap) => {
                let (ids, pos, column, mask) =
                    static_step_inputs(rows, pads, cache.len(), cap, device)?;
                let inputs = StepInputs {
                    ids,
                    pos,
                    column,
                    mask,
                };
                self.step(model, cache, &inputs)
            }
            None => {
                let (ids, pos, mask) = padded_inputs(rows, pads, cache.len(), device)?;
                decode_logits(model, cache, &ids, &pos, &mask)
            }
        }
    }

    /// One fixed-shape decode step's logits `(B, vocab)`. From a replayed graph the tensor is
    /// a buffer the next step overwrites: read it (draw the tokens) before the next step.
    pub fn step(
        &mut self,
        model: &Transformer,
        cache: &mut KvCache,
        inputs: &StepInputs,
    ) -> Result<Tensor> {
        #[cfg(feature = "cuda")]
        if self.on {
            let len = cache.len();
            match cuda::step(self, model, cache, inputs) {
                Ok(logits) => return Ok(logits),
                Err(e) => {
                    cache.set_len(len)?;
                    self.on = false;
                    self.by_size.clear();
                    self.stats.fallback = Some(format!("{e:#}"));
                }
            }
        }
        eager_step(model, cache, inputs)
    }
}

#[cfg(feature = "cuda")]
mod cuda {
    use anyhow::{bail, Context, Result};
    use candle_core::cuda_backend::cudarc::driver::{sys, CudaGraph};
    use candle_core::{Device, Tensor};

    use super::{eager_step, forward, DecodeGraphs, StepInputs};
    use crate::kv_cache::KvCache;
    use crate::transformer::Transformer;

    /// The buffers a batch size's graph reads and writes, and the graph once captured.
    pub(super) struct Slot {
        inputs: StepInputs,
        logits: Tensor,
        graph: Option<CudaGraph>,
        generation: u64,
    }

    fn copy_into(dst: &Tensor, src: &Tensor) -> Result<()> {
        if dst.shape() != src.shape() {
            bail!(
                "decode graph: input {:?} for a buffer {:?}",
                src.dims(),
                dst.dims()
            );
        }
        dst.slice_set(src, 0, 0)?;
        Ok(())
    }

    pub(super) fn step(
        g: &mut DecodeGraphs,
        model: &Transformer,
        cache: &mut KvCache,
        inputs: &StepInputs,
    ) -> Result<Tensor> {
        let Device::Cuda(dev) = model.device() else {
            bail!("decode graph: the model is not on a CUDA device");
        };
        let b = inputs.ids.dim(0)?;
        let generation = cache.generation();
        let ready = g
            .by_size
            .get(&b)
            .is_some_and(|s| s.generation == generation);
        if !ready {
            // First step at this batch size (or with new cache buffers): kept input buffers,
            // an eager step that fills candle's upload cache and gives this step's logits.
            let kept = StepInputs {
                ids: inputs.ids.copy()?,
                pos: inputs.pos.copy()?,
                column: inputs.column.copy()?,
                mask: inputs.mask.copy()?,
            };
            let logits = {
                let _uploads = dev.enable_cuda_graph_htod_cache();
                eager_step(model, cache, &kept)?
            };
            let slot = Slot {
                logits: logits.zeros_like()?,
                inputs: kept,
                graph: None,
                generation,
            };
            g.by_size.insert(b, slot);
            return Ok(logits);
        }
        let Some(slot) = g.by_size.get_mut(&b) else {
            bail!("decode graph: no buffers for batch size {b}");
        };
        copy_into(&slot.inputs.ids, &inputs.ids)?;
        copy_into(&slot.inputs.pos, &inputs.pos)?;
        copy_into(&slot.inputs.column, &inputs.column)?;
        copy_into(&slot.inputs.mask, &inputs.mask)?;
        match &slot.graph {
            Some(graph) => {
                graph.launch().context("replaying the decode graph")?;
                cache.set_len(cache.len() + 1)?;
                g.stats.replayed += 1;
            }
            None => {
                let graph = capture(dev, model, cache, slot)?;
                graph.launch().context("launching the decode graph")?;
                slot.graph = Some(graph);
                g.stats.captured += 1;
            }
        }
        Ok(slot.logits.clone())
    }

    /// Record the forward of the slot's inputs into a graph; the host side of the forward runs
    /// once here (the cache's length advances), the device side when the graph is launched.
    fn capture(
        dev: &candle_core::CudaDevice,
        model: &Transformer,
        cache: &mut KvCache,
        slot: &Slot,
    ) -> Result<CudaGraph> {
        // The cache already writes at the slot's column buffer (set by the eager step): setting
        // it again inside the capture would free nothing, but nothing needs it.
        let stream = dev.cuda_stream();
        let _uploads = dev.enable_cuda_graph_htod_cache();
        stream
            .begin_capture(sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
            .context("beginning the capture of the decode step")?;
        let recorded = forward(model, cache, &slot.inputs)
            .and_then(|l| Ok(slot.logits.slice_set(&l, 0, 0)?));
        // End the capture whatever happened, so the stream leaves capture mode.
        let graph = stream.end_capture(
            sys::CUgraphInstantiate_flags::CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH,
        );
        recorded.context("capturing the decode step")?;
        graph
            .context("instantiating the decode graph")?
            .context("the capture of the decode step recorded no graph")
    }
}
