//! Pieces shared by the views: a rollout's one-line summary, its detail (breakdown, reasoning,
//! highlighted answer) and a list that builds only the rows on screen.

use raif_store::Rollout;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use crate::highlight;
use crate::select::SelectList;
use crate::state::Phase;

pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn title_style() -> Style {
    Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD)
}

/// The colour of the workbench's training phase.
pub fn phase_style(p: &Phase) -> Style {
    match p {
        Phase::Running => Style::default().fg(Color::Green),
        Phase::Starting | Phase::Stopping => Style::default().fg(Color::Yellow),
        Phase::Paused => Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
        Phase::Failed(_) => Style::default().fg(Color::Red),
        _ => Style::default().fg(Color::DarkGray),
    }
}

/// The colour of a run's phase: the warm-up, then GRPO.
pub fn run_phase_style(label: &str) -> Style {
    if label.starts_with("warm-up") {
        Style::default().fg(Color::Magenta)
    } else {
        Style::default().fg(Color::Cyan)
    }
}

/// `+1.50` / `-0.25`.
pub fn signed(v: f64) -> String {
    format!("{v:+.2}")
}

pub fn reward_style(v: f64) -> Style {
    if v > 0.5 {
        Style::default().fg(Color::Green)
    } else if v < -0.5 {
        Style::default().fg(Color::Red)
    } else {
        Style::default().fg(Color::Yellow)
    }
}

/// The first line of `s`, at most `n` characters.
pub fn snippet(s: &str, n: usize) -> String {
    let line = s
        .trim()
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut out: String = line.chars().take(n).collect();
    if line.chars().count() > n {
        out.push('…');
    }
    out
}

/// The first `n` characters of `s`, whole.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The style of what budget forcing injected.
pub fn forced_style() -> Style {
    Style::default().fg(Color::Yellow)
}

/// `⇥think`, `⇥answer` or `⇥both` for a rollout into which budget forcing injected a closing
/// tag (None for one that closed its tags itself).
pub fn forced_mark(r: &Rollout) -> Option<String> {
    if !r.was_forced() {
        return None;
    }
    Some(match r.forced.as_str() {
        "think+answer" | "both" => "⇥both".to_string(),
        other => format!("⇥{}", truncate(other, 12)),
    })
}

/// `p0 s1  ✓2/3  r +1.50  A +0.71  kept  nt` (`⇥think` when a tag was injected).
pub fn rollout_row(r: &Rollout, with_step: bool) -> Line<'static> {
    let mut spans = Vec::new();
    if with_step {
        spans.push(Span::styled(format!("s{:<4}", r.step), dim()));
    }
    spans.push(Span::raw(format!(
        "p{:<2} #{:<2} ",
        r.prompt_index, r.sample
    )));
    let all = r.total > 0 && r.satisfied == r.total;
    spans.push(Span::styled(
        format!(
            "{}{}/{} ",
            if all { "✓" } else { "✗" },
            r.satisfied,
            r.total
        ),
        if all {
            Style::default().fg(Color::Green)
        } else {
            Style::default().fg(Color::Red)
        },
    ));
    spans.push(Span::styled(
        format!("r{} ", signed(r.reward)),
        reward_style(r.reward),
    ));
    spans.push(Span::raw(format!("A{} ", signed(r.advantage))));
    spans.push(if r.kept {
        Span::styled("kept", Style::default().fg(Color::Green))
    } else {
        Span::styled("drop", Style::default().fg(Color::Red))
    });
    if r.no_think {
        spans.push(Span::styled(" nt", Style::default().fg(Color::Magenta)));
    }
    if r.eval {
        spans.push(Span::styled(" eval", Style::default().fg(Color::Blue)));
    }
    if let Some(m) = forced_mark(r) {
        spans.push(Span::styled(format!(" {m}"), forced_style()));
    }
    Line::from(spans)
}

/// Options of the detail pane.
#[derive(Clone, Copy, Debug)]
pub struct DetailOpts {
    pub reasoning: bool,
    pub breakdown: bool,
    pub prompt_lines: usize,
}

fn section(name: &str, extra: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("── {name} "), title_style()),
        Span::styled(extra.to_string(), dim()),
    ])
}

/// The constraint breakdown: each verdict, its path in the rule tree and its reason.
fn breakdown(r: &Rollout) -> Vec<Line<'static>> {
    let mut l = Vec::new();
    l.push(section(
        "Constraints",
        &format!("{} verdicts", r.verdicts.len()),
    ));
    if r.verdicts.is_empty() {
        l.push(Line::styled(
            "  (none: the response could not be scored)",
            dim(),
        ));
    }
    for v in &r.verdicts {
        let (mark, st) = if v.pass {
            ("✓", Style::default().fg(Color::Green))
        } else {
            ("✗", Style::default().fg(Color::Red))
        };
        let mut spans = vec![
            Span::styled(format!(" {mark} "), st.add_modifier(Modifier::BOLD)),
            Span::styled(v.id.clone(), bold()),
        ];
        if v.role == "guard" {
            spans.push(Span::styled(
                " [guard]",
                Style::default().fg(Color::Magenta),
            ));
        }
        spans.push(Span::styled(format!("  {}", v.path), dim()));
        l.push(Line::from(spans));
        if !v.reason.is_empty() {
            l.push(Line::styled(
                format!("     {}", v.reason),
                if v.pass {
                    dim()
                } else {
                    Style::default().fg(Color::LightRed)
                },
            ));
        }
    }
    l
}

/// Everything known about one rollout, as lines.
pub fn rollout_detail(r: &Rollout, o: DetailOpts) -> Vec<Line<'static>> {
    let mut l = Vec::new();
    let mut head = vec![Span::styled(
        format!(
            "step {} · prompt {} · sample {}",
            r.step, r.prompt_index, r.sample
        ),
        bold(),
    )];
    if r.no_think {
        head.push(Span::styled(
            " · no-think",
            Style::default().fg(Color::Magenta),
        ));
    }
    if r.eval {
        head.push(Span::styled(" · eval", Style::default().fg(Color::Blue)));
    }
    head.push(Span::styled(
        format!(
            " · {} tokens · finish {}",
            r.tokens.len(),
            if r.finish.is_empty() { "?" } else { &r.finish }
        ),
        dim(),
    ));
    if r.was_forced() {
        head.push(Span::styled(
            format!(" · forced: {}", truncate(&r.forced, 16)),
            forced_style().add_modifier(Modifier::BOLD),
        ));
    }
    l.push(Line::from(head));
    let mut reward = vec![
        Span::raw("reward "),
        Span::styled(
            signed(r.reward),
            reward_style(r.reward).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            " = answer {} + format {}",
            signed(r.answer_score),
            signed(r.format_score)
        )),
    ];
    if r.was_forced() {
        // The format score of a sample with an injected tag is the run's forced score.
        reward.push(Span::styled(" (forced)", forced_style()));
    }
    reward.push(Span::raw(format!(
        "   satisfied {}/{}",
        r.satisfied, r.total
    )));
    l.push(Line::from(reward));
    let keep = Span::styled(
        keep_explained(r),
        Style::default().fg(if r.kept { Color::Green } else { Color::Red }),
    );
    l.push(Line::from(vec![
        Span::raw(format!("advantage {}   ", signed(r.advantage))),
        keep,
    ]));
    if o.breakdown {
        l.extend(breakdown(r));
    }
    if o.prompt_lines > 0 {
        let lines: Vec<&str> = r.prompt.trim().lines().collect();
        l.push(section("Prompt", &format!("{} lines", lines.len())));
        for p in lines.iter().take(o.prompt_lines) {
            l.push(Line::raw(format!("  {p}")));
        }
        if lines.len() > o.prompt_lines {
            l.push(Line::styled("  …", dim()));
        }
    }
    match &r.reasoning {
        Some(t) if !t.trim().is_empty() => {
            let n = t.trim().lines().count();
            if o.reasoning {
                l.push(section("Reasoning", &format!("{n} lines · r folds")));
                let st = Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::ITALIC);
                for line in t.trim().lines() {
                    l.push(Line::styled(line.to_string(), st));
                }
            } else {
                l.push(section(
                    "Reasoning",
                    &format!("{n} lines folded · r unfolds"),
                ));
                l.push(Line::styled(
                    format!("  {}", snippet(t, 100)),
                    Style::default()
                        .fg(Color::DarkGray)
                        .add_modifier(Modifier::ITALIC),
                ));
            }
        }
        _ => {}
    }
    let answer = r.answer.as_deref().unwrap_or(&r.response);
    let (lang, lines) = highlight::highlight(answer.trim());
    let what = if r.answer.is_some() {
        "Answer"
    } else {
        "Response (no answer extracted)"
    };
    l.push(section(what, lang.name()));
    l.extend(lines);
    l
}

/// Rows `[start, end)` of a list of `len` rows that keep `sel` visible in `height` rows.
pub fn window(len: usize, sel: usize, height: usize) -> (usize, usize) {
    if height == 0 || len == 0 {
        return (0, 0);
    }
    let start = if sel >= height { sel + 1 - height } else { 0 };
    let start = start.min(len.saturating_sub(height));
    (start, (start + height).min(len))
}

/// A bordered list of which only the visible rows are built (`row(i)` for each).
pub fn render_list(
    f: &mut Frame,
    area: Rect,
    title: Line<'static>,
    len: usize,
    sel: Option<usize>,
    focused: bool,
    row: &dyn Fn(usize) -> Line<'static>,
) {
    let border = if focused {
        Style::default().fg(Color::Cyan)
    } else {
        dim()
    };
    let block = Block::bordered().title(title).border_style(border);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height as usize;
    let (a, z) = window(len, sel.unwrap_or(0), h);
    let mut lines = Vec::with_capacity(z - a);
    for i in a..z {
        let mut line = row(i);
        if Some(i) == sel {
            line = line.patch_style(Style::default().bg(if focused {
                Color::Rgb(40, 60, 90)
            } else {
                Color::Rgb(45, 45, 45)
            }));
            line.spans
                .insert(0, Span::styled("▶", Style::default().fg(Color::Cyan)));
        } else {
            line.spans.insert(0, Span::raw(" "));
        }
        lines.push(line);
    }
    if len == 0 {
        lines.push(Line::styled(" (empty)", dim()));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// A bordered [`SelectList`]: only the visible rows are built (`row` for each), the
/// selected one highlighted.
pub fn render_select<T>(
    f: &mut Frame,
    area: Rect,
    title: Line<'static>,
    list: &SelectList<T>,
    row: &dyn Fn(&T) -> Line<'static>,
) {
    let sel = Some(list.index());
    render_list(f, area, title, list.len(), sel, true, &|i| row(&list[i]));
}

/// A bordered, wrapped, scrollable text pane.
pub fn render_text(
    f: &mut Frame,
    area: Rect,
    title: Line<'static>,
    lines: Vec<Line<'static>>,
    scroll: u16,
) {
    let block = Block::bordered().title(title).border_style(dim());
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// A rollout's keep decision as a table cell: the trainer's reason in short, or, for a
/// reason written elsewhere (an imported run), its text.
pub fn keep_short(r: &Rollout) -> String {
    match raif_rl::grpo::KeepReason::from_stored(&r.keep_reason) {
        Some(k) => k.short(),
        None if r.kept => "kept".into(),
        None => format!("drop {}", foreign_reason(r)),
    }
}

/// A rollout's keep decision as a sentence (the detail pane).
pub fn keep_explained(r: &Rollout) -> String {
    match raif_rl::grpo::KeepReason::from_stored(&r.keep_reason) {
        Some(k) => k.explain(),
        None if r.kept => match foreign_reason(r) {
            "" | "kept" => "kept".into(),
            other => format!("kept ({other})"),
        },
        None => match foreign_reason(r) {
            "" => "dropped: no reason recorded".into(),
            other => format!("dropped: {other}"),
        },
    }
}

/// A reason that is not the trainer's JSON, unquoted.
fn foreign_reason(r: &Rollout) -> &str {
    r.keep_reason.trim().trim_matches('"')
}

/// A scored response's reasoning (dim) and answer, or why it was not scored with the whole
/// response: what Compare's panes show above the verdicts.
pub fn reasoning_and_answer(
    reasoning: Option<&str>,
    answer: Option<&str>,
    unscorable: Option<&str>,
    response: &str,
) -> Vec<Line<'static>> {
    let mut l = Vec::new();
    if let Some(r) = reasoning {
        l.push(Line::styled("reasoning", bold()));
        l.extend(r.lines().map(|x| Line::styled(x.to_string(), dim())));
        l.push(Line::raw(""));
    }
    l.push(Line::styled("answer", bold()));
    let text = match (answer, unscorable) {
        (_, Some(why)) => {
            l.push(Line::styled(
                format!("not scored: {why}"),
                Style::default().fg(Color::Red),
            ));
            response
        }
        (Some(a), None) => a,
        (None, None) => response,
    };
    l.extend(text.lines().map(|x| Line::raw(x.to_string())));
    l.push(Line::raw(""));
    l
}
