//! The RAIF Workbench terminal application.
//!
//! - [`app::App`]: the whole state. `App::update` handles the global actions (quit, switching
//!   views, help, resize, the prompt at the bottom, the trainer) and routes the rest: a key's
//!   action to the view shown, a worker result or trainer event to the view it is for. It
//!   answers with [`action::Request`]s for the background thread.
//! - [`views`]: the components, one module each: Launch, Live, Group, Curves, Replay (a
//!   folder: state, drawing, keys), Tokens, Eval and Compare. Each owns its state, one key
//!   table (keys and help), its `update(Action)` and its `render` (a pure function of its
//!   state); `views/mod.rs` lists them (the [`action::View`] enum).
//! - [`component`]: what a view is (`Component`: state, `KEYS`, `update`, `render`), what it
//!   may read (`Shared`) and what it asks of the App (`Effects`: requests, a message, another
//!   view to show, actions for other views).
//! - [`frame`]: the frame around the views (tabs, status line, help and quit overlays) and
//!   terminal events to actions (modal keys, the view's table, then the global table).
//! - [`action`]: the actions (keys, typed worker results, what views send each other) and the
//!   requests; [`select`]: `SelectList`, the list-with-a-cursor every view uses; [`state`]:
//!   the training run and the run phases every view may read.
//! - [`worker`]: store reads, tokenizers, the trainer thread and its coalesced events.
//! - [`series`]: bounded time series for Curves.
//! - [`run`]: the terminal loop (raw mode, mouse, panic hook, bounded frame rate, no redraw
//!   when nothing changed).
//!
//! To add a view: `views/<name>.rs` (its state implementing `component::Component`), its
//! `pub mod` and `View` variant in `views/mod.rs`, and its field and arms in `app.rs`
//! (`App::new`, `App::component`, `App::parts`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use raif_rl::config::RunConfig;
use raif_store::Store;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::Terminal;

pub mod action;
pub mod app;
pub mod bench;
pub mod component;
pub mod fixtures;
pub mod frame;
pub mod highlight;
pub mod playground;
pub mod plot;
pub mod select;
pub mod series;
pub mod state;
pub mod views;
pub mod worker;

pub use action::{Action, Request, View};
pub use app::App;

/// What `raif` (no subcommand) was given.
#[derive(Clone, Debug, Default)]
pub struct UiOptions {
    /// The workspace: `<home>/store`, `<home>/models`.
    pub home: PathBuf,
    /// A model for the launch form (and the run started at once).
    pub model: Option<String>,
    /// Start a run of this preset at once.
    pub preset: Option<String>,
    /// Start a run of this TOML configuration at once.
    pub config: Option<PathBuf>,
}

/// At most this many frames per second.
pub const MAX_FPS: u64 = 20;

/// The configuration to start at once, if the options ask for one.
pub fn initial_config(opts: &UiOptions) -> Result<Option<RunConfig>> {
    let mut cfg = match (&opts.config, &opts.preset) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            RunConfig::from_toml(&text, &p.display().to_string())?
        }
        (None, Some(pr)) => RunConfig::preset(pr)?,
        (None, None) => return Ok(None),
    };
    if let Some(m) = &opts.model {
        cfg.model.path = m.clone();
    }
    cfg.validate()?;
    Ok(Some(cfg))
}

/// Open the workbench in this terminal (blocks until the user quits).
pub fn run(opts: UiOptions) -> Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the workbench needs a terminal (stdout is not one): use `raif train` to train without it, e.g. `raif train --preset tiny`");
    }
    let initial = initial_config(&opts)?;
    std::fs::create_dir_all(&opts.home)
        .with_context(|| format!("cannot create {}", opts.home.display()))?;
    let store = Arc::new(Store::open(&opts.home)?);
    let mut app = App::new(opts.model.as_deref(), opts.preset.as_deref());
    if let Some(c) = &initial {
        app.launch.fill_from(c);
    }

    install_panic_hook();
    enable_raw_mode().context("cannot switch the terminal to raw mode")?;
    let mut out = std::io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture) {
        restore_terminal();
        return Err(e).context("cannot set up the terminal");
    }
    let result = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("cannot open the terminal")
        .and_then(|mut t| event_loop(&mut t, app, store, opts.home.clone(), initial));
    restore_terminal();
    result
}

/// Leave raw mode and the alternate screen, show the cursor (safe to call twice).
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// A panic on the UI thread restores the terminal before the message is printed. Panics of
/// other threads (the trainer's, the worker's) leave the screen alone: the UI stays up and
/// reports them (the trainer's as a failed run).
fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            restore_terminal();
        }
        previous(info);
    }));
}

enum Msg {
    Input(Event),
    Act(Action),
}

fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    mut app: App,
    store: Arc<Store>,
    home: PathBuf,
    initial: Option<RunConfig>,
) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let (tx, rx) = mpsc::channel::<Msg>();
    let stop = Arc::new(AtomicBool::new(false));

    // Terminal input.
    let input = {
        let tx = tx.clone();
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("raif-ui-input".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match event::poll(Duration::from_millis(100)) {
                        Ok(true) => match event::read() {
                            Ok(ev) => {
                                if tx.send(Msg::Input(ev)).is_err() {
                                    break;
                                }
                            }
                            Err(_) => break,
                        },
                        Ok(false) => {}
                        Err(_) => break,
                    }
                }
            })?
    };

    // Store reads and the trainer.
    let (req_tx, req_rx) = mpsc::channel::<Request>();
    let sink_tx = std::sync::Mutex::new(tx.clone());
    let sink: worker::Sink = Arc::new(move |a| {
        if let Ok(t) = sink_tx.lock() {
            let _ = t.send(Msg::Act(a));
        }
    });
    let ctx = worker::Ctx::new(store, home);
    let worker_thread = std::thread::Builder::new()
        .name("raif-ui-worker".into())
        .spawn(move || worker::run(ctx, req_rx, sink))?;
    drop(tx);

    let send = |reqs: Vec<Request>| {
        for r in reqs {
            let _ = req_tx.send(r);
        }
    };
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    send(app.init());
    if let Some(c) = initial {
        send(app.start(c));
    }

    let start = Instant::now();
    let frame = Duration::from_millis(1000 / MAX_FPS);
    let mut last_draw: Option<Instant> = None;
    let mut last_tick = 0u64;
    let mut dirty = true;
    let result = loop {
        let now = Instant::now();
        if dirty && last_draw.is_none_or(|t| now.duration_since(t) >= frame) {
            if let Err(e) = terminal.draw(|f| frame::render(&app, f)) {
                break Err(anyhow::Error::new(e).context("drawing the workbench"));
            }
            last_draw = Some(now);
            dirty = false;
        }
        let timeout = if dirty {
            frame.saturating_sub(last_draw.map_or(Duration::ZERO, |t| now.duration_since(t)))
        } else if app.train.phase.active() {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(3600)
        };
        let handle = |m: Msg, app: &mut App| {
            let action = match m {
                Msg::Input(ev) => frame::map_event(app, &ev),
                Msg::Act(a) => Some(a),
            };
            if let Some(a) = action {
                send(app.update(a));
            }
        };
        match rx.recv_timeout(timeout) {
            Ok(m) => {
                handle(m, &mut app);
                // Everything that arrived: the frame shows the latest state only.
                while let Ok(m) = rx.try_recv() {
                    handle(m, &mut app);
                }
                dirty = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        }
        let ms = start.elapsed().as_millis() as u64;
        if app.train.phase.active() && ms.saturating_sub(last_tick) >= 500 {
            app.update(Action::Tick(ms));
            last_tick = ms;
            dirty = true;
        }
        if app.should_quit {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    drop(req_tx);
    let _ = input.join();
    // The worker ends when its request channel closes (after the request it is serving, which
    // is not waited for: quitting stays instant).
    drop(worker_thread);
    result
}
