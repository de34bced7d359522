//! Device and dtype choice.

use anyhow::{bail, Result};
use candle_core::{DType, Device};

/// Parse `--device cpu|cuda|cuda:N|auto`. `auto` picks CUDA when this build has it and a
/// device answers, else the CPU.
pub fn parse_device(spec: &str) -> Result<Device> {
    match spec {
        "cpu" => Ok(Device::Cpu),
        "auto" => {
            if candle_core::utils::cuda_is_available() {
                if let Ok(d) = Device::new_cuda(0) {
                    return Ok(prepared(d));
                }
            }
            Ok(Device::Cpu)
        }
        s if s == "cuda" || s.starts_with("cuda:") => {
            let n: usize = match s.strip_prefix("cuda:") {
                Some(n) => n
                    .parse()
                    .map_err(|_| anyhow::anyhow!("bad device `{s}` (cuda:N)"))?,
                None => 0,
            };
            if !candle_core::utils::cuda_is_available() {
                bail!("this raif was built without CUDA; rebuild with `--features cuda` or use --device cpu");
            }
            Ok(prepared(Device::new_cuda(n)?))
        }
        other => bail!("unknown device `{other}` (cpu, cuda, cuda:N, auto)"),
    }
}

/// A new CUDA device made ready for this program. candle runs every op of a device on one
/// stream, so cudarc's per-buffer event tracking (which only matters between streams) is
/// turned off: without it each allocation skips creating, and each free destroying, two CUDA
/// events — driver calls that cost as much as a small kernel launch on every op of a decode
/// step. `RAIF_CUDA_EVENTS=1` keeps the tracking (for comparisons).
fn prepared(d: Device) -> Device {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(c) = &d {
        if std::env::var("RAIF_CUDA_EVENTS").as_deref() != Ok("1") {
            // SAFETY: one stream per device (candle's), and no tensor of this device exists
            // yet, so no buffer's use is ordered by the events being turned off.
            unsafe { c.disable_event_tracking() };
        }
    }
    d
}

/// The compute dtype for a device: f32 on the CPU, bf16 on CUDA.
pub fn default_dtype(device: &Device) -> DType {
    if device.is_cuda() {
        DType::BF16
    } else {
        DType::F32
    }
}

pub fn describe(device: &Device) -> String {
    match device {
        Device::Cpu => format!("cpu ({} threads)", candle_core::utils::get_num_threads()),
        Device::Cuda(_) => "cuda".to_string(),
        Device::Metal(_) => "metal".to_string(),
    }
}
