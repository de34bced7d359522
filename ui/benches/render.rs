//! `cargo bench -p raif-ui --bench render [-- ROLLOUTS [FRAMES]]`: the Live and Replay views
//! rendered from a store of 100,000 rollouts (default), and the time to open the replay list.

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rollouts = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000usize);
    let frames = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200usize);
    let dir = tempfile::tempdir()?;
    let report = raif_ui::bench::bench_render(dir.path(), rollouts, frames)?;
    println!("{report}");
    Ok(())
}
