//! Keep freed tensor buffers in the process instead of handing them back to the kernel.
//!
//! Every candle op allocates its output afresh, and a training step frees and reallocates
//! buffers of 1–30 MB thousands of times. glibc's defaults serve such sizes with `mmap` (or
//! trim them off the heap when freed), so each reuse costs page faults and zeroing by the
//! kernel: on the default model's LoRA step (`raif bench train-step`, one thread) that was
//! 19 s of system time against 67 s of user time. Serving them from the heap and keeping up to
//! 2 GB of free heap cut system time to 1.2 s and the step by a fifth (docs/BENCHMARKS.md);
//! peak resident memory stayed the same, since the memory was in use at the peak anyway.

/// Tune the allocator for tensor workloads; call once, first thing in `main`.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes allocator parameters; it is called before other
        // threads start and with values inside the documented ranges.
        unsafe {
            // Up to 32 MB from the heap (glibc's upper limit for this threshold); larger
            // buffers, such as a batch's logits, still get their own mapping.
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            // Keep up to 2 GB of free memory at the top of the heap instead of trimming it,
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            // and grow it in steps of 256 MB.
            libc::mallopt(libc::M_TOP_PAD, 256 << 20);
        }
    }
}
