//! Budget forcing (s1; Elastic Reasoning) on a tiny random model: the closing tags are
//! injected exactly where the budgets run out, injected tokens are marked and not drawn, a
//! tag the model writes itself starts the answer phase, and kept stop strings stay in the text.

use raif_model::tiny::tiny_model;
use raif_model::{
    Arch, BudgetForcing, FinishReason, Forced, Generation, Generator, SamplingParams,
};

fn params(forcing: Option<BudgetForcing>, max_new_tokens: usize) -> SamplingParams {
    SamplingParams {
        temperature: 1.0,
        max_new_tokens,
        forcing,
        ..Default::default()
    }
}

fn run(
    prompts: &[Vec<u32>],
    seeds: &[u64],
    answering: &[bool],
    p: &SamplingParams,
) -> Vec<Generation> {
    let lm = tiny_model(Arch::Llama, 7).unwrap();
    let gen = Generator {
        model: &lm.model,
        tokenizer: &lm.tokenizer,
        stop_ids: vec![],
    };
    gen.generate_rows(prompts, seeds, answering, p, &mut |_| {})
        .unwrap()
        .0
}

fn encode(s: &str) -> Vec<u32> {
    tiny_model(Arch::Llama, 7)
        .unwrap()
        .tokenizer
        .encode(s)
        .unwrap()
}

#[test]
fn tags_are_injected_where_the_budgets_run_out() {
    let (tb, ab) = (5, 4);
    let f = BudgetForcing::raif(tb, ab);
    let think_close = encode(&f.think_close);
    let answer_close = encode(&f.answer_close);
    let prompt = encode("write the plan, then the answer");
    let free = run(std::slice::from_ref(&prompt), &[3], &[], &params(None, 60));
    let out = run(
        std::slice::from_ref(&prompt),
        &[3],
        &[],
        &params(Some(f.clone()), 60),
    );
    let g = &out[0];
    assert!(
        !free[0].text.contains("</think>"),
        "the random model does not close by itself"
    );
    // tb sampled tokens (the same the unforced run drew), the think close, ab sampled tokens,
    // the answer close, and the end.
    assert_eq!(g.tokens[..tb], free[0].tokens[..tb]);
    assert_eq!(g.tokens[tb..tb + think_close.len()], think_close[..]);
    let a0 = tb + think_close.len();
    assert_eq!(g.tokens[a0 + ab..], answer_close[..]);
    assert_eq!(g.tokens.len(), a0 + ab + answer_close.len());
    let forced: Vec<u32> = (tb..a0)
        .chain(a0 + ab..g.tokens.len())
        .map(|i| i as u32)
        .collect();
    assert_eq!(g.forced, forced);
    assert_eq!(g.forced_tags, Forced::Both);
    assert_eq!(g.finish, FinishReason::Length);
    for &i in &g.forced {
        assert_eq!(
            g.logprobs[i as usize], 0.0,
            "an injected token was not drawn"
        );
    }
    assert!(g.logprobs[..tb].iter().all(|&l| l < 0.0));
    // The text holds the tags in order, the answer close last.
    let t = &g.text;
    let (c, o, e) = (
        t.find("</think>").unwrap(),
        t.find("<answer>").unwrap(),
        t.find("</answer>").unwrap(),
    );
    assert!(c < o && o < e && t.ends_with("</answer>"), "{t:?}");
}

#[test]
fn a_no_think_row_counts_its_answer_budget_from_the_start() {
    let f = BudgetForcing::raif(5, 3);
    let answer_close = encode(&f.answer_close);
    let prompt = encode("answer now");
    let out = run(
        &[prompt.clone(), prompt],
        &[1, 1],
        &[true, false],
        &params(Some(f.clone()), 60),
    );
    let g = &out[0];
    assert_eq!(g.forced_tags, Forced::Answer);
    assert_eq!(g.tokens[3..], answer_close[..]);
    assert!(!g.text.contains("</think>"));
    // Its neighbour in the batch reasons first.
    assert_eq!(out[1].forced_tags, Forced::Both);
    // Rows are independent of their neighbours.
    let alone = run(&[encode("answer now")], &[1], &[true], &params(Some(f), 60));
    assert_eq!(alone[0].tokens, g.tokens);
    assert_eq!(alone[0].forced, g.forced);
}

#[test]
fn a_tag_the_model_writes_itself_ends_the_reasoning_without_injection() {
    let prompt = encode("think about it");
    let free = run(std::slice::from_ref(&prompt), &[9], &[], &params(None, 40));
    // Pretend the text of the model's own third token is the think tag.
    let lm = tiny_model(Arch::Llama, 7).unwrap();
    let tag = lm.tokenizer.decode(&free[0].tokens[..3], false).unwrap();
    let tag = tag.trim_start().to_string();
    assert!(!tag.is_empty());
    let f = BudgetForcing {
        think_budget: 20,
        answer_budget: 4,
        think_tag: tag,
        think_close: "\n</think>\n<answer>\n".into(),
        answer_close: "\n</answer>".into(),
    };
    let answer_close = encode(&f.answer_close);
    let out = run(
        std::slice::from_ref(&prompt),
        &[9],
        &[],
        &params(Some(f), 40),
    );
    let g = &out[0];
    assert_eq!(g.forced_tags, Forced::Answer, "no think close was injected");
    // Three tokens of reasoning (the tag), four of answer, then the answer close.
    assert_eq!(g.tokens[..7], free[0].tokens[..7]);
    assert_eq!(g.tokens[7..], answer_close[..]);
}

#[test]
fn kept_stop_strings_stay_in_the_text_and_forcing_off_changes_nothing() {
    let prompt = encode("say something");
    let free = run(std::slice::from_ref(&prompt), &[5], &[], &params(None, 30));
    // A stop string the model will write: its 4th token's text.
    let lm = tiny_model(Arch::Llama, 7).unwrap();
    let stop = lm.tokenizer.decode(&free[0].tokens[3..4], false).unwrap();
    assert!(!stop.trim().is_empty());
    let mut p = params(None, 30);
    p.stop_strings = vec![stop.clone()];
    let cut = run(std::slice::from_ref(&prompt), &[5], &[], &p);
    p.keep_stop_strings = true;
    let kept = run(std::slice::from_ref(&prompt), &[5], &[], &p);
    assert_eq!(cut[0].finish, FinishReason::StopString);
    assert_eq!(kept[0].tokens, cut[0].tokens);
    assert!(kept[0].text.ends_with(&stop), "{:?}", kept[0].text);
    assert_eq!(kept[0].text, format!("{}{stop}", cut[0].text));
    // Without forcing nothing is injected.
    assert!(free[0].forced.is_empty() && free[0].forced_tags == Forced::None);
}
