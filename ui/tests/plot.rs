//! `raif_ui::plot`: two runs overlaid, as SVG and PNG, from the fixtures' stored runs.

use raif_store::{RunStatus, Store};
use raif_ui::fixtures;
use raif_ui::plot::{plot, PlotOptions, PlotRun};

fn two_runs(dir: &std::path::Path) -> Vec<PlotRun> {
    let store = Store::open(dir).unwrap();
    fixtures::build_warmup_run(&store, "warm-run", RunStatus::Finished, 4, 6, 2, 4).unwrap();
    fixtures::build_run(&store, "plain-run", RunStatus::Finished, 8, 2, 4).unwrap();
    ["warm-run", "plain-run"]
        .iter()
        .map(|id| PlotRun::load(&store, id).unwrap())
        .collect()
}

#[test]
fn an_svg_of_two_runs_parses_and_names_both_in_its_legends() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_runs(&dir.path().join("home"));
    assert_eq!(runs[0].warmup, 4);
    let out = dir.path().join("curves.svg");
    let opts = PlotOptions::new(vec!["reward".into(), "kl".into(), "loss".into()], 0.6);
    plot(&runs, &opts, &out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for want in [
        "warm-run",
        "plain-run",
        "reward",
        "kl",
        "loss",
        "step",
        "GRPO →",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(want)),
            "{want} in {texts:?}"
        );
    }
    // One legend entry per run in each of the three panels.
    assert_eq!(
        texts.iter().filter(|t| t.trim() == "plain-run").count(),
        3,
        "{texts:?}"
    );
}

#[test]
fn a_png_of_two_runs_draws_both_colours() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_runs(&dir.path().join("home"));
    let out = dir.path().join("curves.png");
    plot(&runs, &PlotOptions::new(vec!["reward".into()], 0.0), &out).unwrap();
    let img = image::open(&out).expect("a readable PNG").to_rgb8();
    assert_eq!(img.dimensions(), (640, 400));
    let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
    // The first two colours of the palette: one line each.
    assert!(count([31, 119, 180]) > 50, "the first run's line");
    assert!(count([255, 127, 14]) > 50, "the second run's line");
}

#[test]
fn what_cannot_be_drawn_is_an_error_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let runs = two_runs(&dir.path().join("home"));
    let err = |metric: &str, name: &str| {
        plot(
            &runs,
            &PlotOptions::new(vec![metric.into()], 0.6),
            &dir.path().join(name),
        )
        .unwrap_err()
        .to_string()
    };
    let e = err("no_such_metric", "x.svg");
    assert!(e.contains("no_such_metric") && e.contains("reward"), "{e}");
    let e = err("reward", "x.jpg");
    assert!(e.contains("x.jpg") && e.contains(".svg or .png"), "{e}");
    let store = Store::open(&dir.path().join("home")).unwrap();
    let e = PlotRun::load(&store, "nope").unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
}
