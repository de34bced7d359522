//! Chat templates (ChatML, Llama-3, DeepSeek-R1, Mistral) and the RAIF prompt modes of
//! ALGORITHM.md §1 and §6.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(c: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: c.into(),
        }
    }
    pub fn user(c: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: c.into(),
        }
    }
    pub fn assistant(c: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: c.into(),
        }
    }
}

/// A chat template family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatTemplate {
    /// `<|im_start|>role\ncontent<|im_end|>\n`; SmolLM2 and Qwen2.5 insert a default system
    /// prompt when the conversation has none.
    ChatMl { default_system: Option<String> },
    /// Llama 3.x headers. `date_header` adds Llama-3.1's "Cutting Knowledge Date" lines to an
    /// always-present system block.
    Llama3 { date_header: bool },
    /// DeepSeek-R1 (and its Qwen/Llama distills): `<｜User｜>…<｜Assistant｜>`.
    DeepSeekR1,
    /// Mistral / Ministral `[INST]…[/INST]`; a system message is prepended to the last user turn.
    Mistral,
}

pub const SMOLLM_DEFAULT_SYSTEM: &str =
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face";
pub const QWEN_DEFAULT_SYSTEM: &str =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

/// The RAIF system prompt (ALGORITHM §1).
pub const RAIF_SYSTEM: &str = "You are a helpful assistant. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>.";

/// The CoT instruction appended to the user turn in `cot` mode (ALGORITHM §6).
pub const COT_SUFFIX: &str = "\n\nLet's think step by step before giving the final answer.";

/// How a prompt asks the model to answer (ALGORITHM §1, §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PromptMode {
    /// The plain chat prompt; the whole response is the answer.
    #[default]
    Io,
    /// The plain prompt plus an instruction to think step by step.
    Cot,
    /// RAIF: the reasoning system prompt and a generation prompt followed by `<think>\n`.
    Think,
    /// RAIF's fast answer: the generation prompt followed by an empty, closed think block.
    NoThink,
}

impl std::str::FromStr for PromptMode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "io" => PromptMode::Io,
            "cot" => PromptMode::Cot,
            "think" => PromptMode::Think,
            "no-think" | "nothink" | "no_think" => PromptMode::NoThink,
            other => bail!("unknown prompt mode `{other}` (io, cot, think, no-think)"),
        })
    }
}

impl ChatTemplate {
    /// Guess the template from a Jinja chat template text and/or the tokenizer's special tokens.
    pub fn detect(jinja: Option<&str>, has_token: &dyn Fn(&str) -> bool) -> Option<ChatTemplate> {
        let j = jinja.unwrap_or("");
        if j.contains("<｜Assistant｜>") || has_token("<｜Assistant｜>") {
            return Some(ChatTemplate::DeepSeekR1);
        }
        if j.contains("<|start_header_id|>") || has_token("<|start_header_id|>") {
            return Some(ChatTemplate::Llama3 {
                date_header: j.contains("Cutting Knowledge Date"),
            });
        }
        if j.contains("[INST]") || has_token("[INST]") {
            return Some(ChatTemplate::Mistral);
        }
        if j.contains("<|im_start|>") || has_token("<|im_start|>") {
            let default_system = if j.contains("named SmolLM") {
                Some(SMOLLM_DEFAULT_SYSTEM.to_string())
            } else if j.contains("You are Qwen, created by Alibaba Cloud") {
                Some(QWEN_DEFAULT_SYSTEM.to_string())
            } else {
                None
            };
            return Some(ChatTemplate::ChatMl { default_system });
        }
        None
    }

    pub fn name(&self) -> &'static str {
        match self {
            ChatTemplate::ChatMl { .. } => "chatml",
            ChatTemplate::Llama3 { .. } => "llama3",
            ChatTemplate::DeepSeekR1 => "deepseek-r1",
            ChatTemplate::Mistral => "mistral",
        }
    }

    /// By name, for `--template`.
    pub fn by_name(name: &str) -> Result<ChatTemplate> {
        Ok(match name {
            "chatml" => ChatTemplate::ChatMl { default_system: None },
            "smollm" => ChatTemplate::ChatMl { default_system: Some(SMOLLM_DEFAULT_SYSTEM.into()) },
            "qwen" | "qwen2" => ChatTemplate::ChatMl { default_system: Some(QWEN_DEFAULT_SYSTEM.into()) },
            "llama3" => ChatTemplate::Llama3 { date_header: false },
            "llama3.1" => ChatTemplate::Llama3 { date_header: true },
            "deepseek-r1" => ChatTemplate::DeepSeekR1,
            "mistral" => ChatTemplate::Mistral,
            other => bail!("unknown chat template `{other}` (chatml, smollm, qwen, llama3, llama3.1, deepseek-r1, mistral)"),
        })
    }

    /// The tokens that end an assistant turn under this template.
    pub fn stop_tokens(&self) -> &'static [&'static str] {
        match self {
            ChatTemplate::ChatMl { .. } => &["<|im_end|>", "<|endoftext|>"],
            ChatTemplate::Llama3 { .. } => &["<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"],
            ChatTemplate::DeepSeekR1 => &["<｜end▁of▁sentence｜>"],
            ChatTemplate::Mistral => &["</s>"],
        }
    }

    /// True when reasoning is native to the template (answer = text after `</think>`).
    pub fn is_r1_style(&self) -> bool {
        matches!(self, ChatTemplate::DeepSeekR1)
    }

    /// Render a conversation; with `generation_prompt`, end with the assistant header.
    pub fn render(&self, messages: &[Message], generation_prompt: bool) -> Result<String> {
        let mut s = String::new();
        match self {
            ChatTemplate::ChatMl { default_system } => {
                if let (Some(d), Some(first)) = (default_system, messages.first()) {
                    if first.role != Role::System {
                        s += &format!("<|im_start|>system\n{d}<|im_end|>\n");
                    }
                }
                for m in messages {
                    s += &format!("<|im_start|>{}\n{}<|im_end|>\n", m.role.as_str(), m.content);
                }
                if generation_prompt {
                    s += "<|im_start|>assistant\n";
                }
            }
            ChatTemplate::Llama3 { date_header } => {
                s += "<|begin_of_text|>";
                let (system, rest) = match messages.first() {
                    Some(m) if m.role == Role::System => (Some(m.content.as_str()), &messages[1..]),
                    _ => (None, messages),
                };
                if *date_header {
                    s += "<|start_header_id|>system<|end_header_id|>\n\n";
                    s += "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
                    s += system.unwrap_or("");
                    s += "<|eot_id|>";
                } else if let Some(sys) = system {
                    s += &format!(
                        "<|start_header_id|>system<|end_header_id|>\n\n{}<|eot_id|>",
                        sys.trim()
                    );
                }
                for m in rest {
                    if m.role == Role::System {
                        bail!("llama3 template: a system message is only allowed first");
                    }
                    s += &format!(
                        "<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>",
                        m.role.as_str(),
                        m.content.trim()
                    );
                }
                if generation_prompt {
                    s += "<|start_header_id|>assistant<|end_header_id|>\n\n";
                }
            }
            ChatTemplate::DeepSeekR1 => {
                s += "<｜begin▁of▁sentence｜>";
                let mut rest = messages;
                if let Some(m) = messages.first() {
                    if m.role == Role::System {
                        s += &m.content;
                        rest = &messages[1..];
                    }
                }
                for m in rest {
                    match m.role {
                        Role::User => s += &format!("<｜User｜>{}", m.content),
                        Role::Assistant => {
                            // The official template drops the reasoning of earlier turns.
                            let c = match m.content.split_once("</think>") {
                                Some((_, after)) => after,
                                None => m.content.as_str(),
                            };
                            s += &format!("<｜Assistant｜>{c}<｜end▁of▁sentence｜>");
                        }
                        Role::System => {
                            bail!("deepseek-r1 template: a system message is only allowed first")
                        }
                    }
                }
                if generation_prompt {
                    s += "<｜Assistant｜>";
                }
            }
            ChatTemplate::Mistral => {
                s += "<s>";
                let (system, rest) = match messages.first() {
                    Some(m) if m.role == Role::System => (Some(m.content.as_str()), &messages[1..]),
                    _ => (None, messages),
                };
                let last_user = rest.iter().rposition(|m| m.role == Role::User);
                for (i, m) in rest.iter().enumerate() {
                    match m.role {
                        Role::User => {
                            s += "[INST]";
                            if let (Some(sys), true) = (system, Some(i) == last_user) {
                                s += sys;
                                s += "\n\n";
                            }
                            s += &m.content;
                            s += "[/INST]";
                        }
                        Role::Assistant => {
                            s += &m.content;
                            s += "</s>";
                        }
                        Role::System => {
                            bail!("mistral template: a system message is only allowed first")
                        }
                    }
                }
            }
        }
        Ok(s)
    }

    /// The prompt text for one instruction in a RAIF mode (generation prompt included).
    pub fn prompt(&self, instruction: &str, mode: PromptMode) -> Result<String> {
        self.prompt_conversation(&[Message::user(instruction)], mode)
    }

    /// The prompt text for a conversation (earlier turns included, the last turn the user's)
    /// in a RAIF mode: `cot` appends the step-by-step instruction to the last user turn;
    /// `think` / `no-think` put the RAIF system prompt first (after any system turn of the
    /// conversation, which is kept) unless the template reasons natively (R1-style).
    pub fn prompt_conversation(
        &self,
        conversation: &[Message],
        mode: PromptMode,
    ) -> Result<String> {
        let r1 = self.is_r1_style();
        let Some(last_user) = conversation.iter().rposition(|m| m.role == Role::User) else {
            bail!("a prompt needs a user turn");
        };
        let mut messages: Vec<Message> = conversation.to_vec();
        if mode == PromptMode::Cot {
            messages[last_user].content.push_str(COT_SUFFIX);
        }
        if matches!(mode, PromptMode::Think | PromptMode::NoThink) && !r1 {
            match messages.first_mut() {
                // One system turn: the conversation's own instructions follow RAIF's.
                Some(m) if m.role == Role::System => {
                    m.content = format!("{RAIF_SYSTEM}\n\n{}", m.content)
                }
                _ => messages.insert(0, Message::system(RAIF_SYSTEM)),
            }
        }
        let mut s = self.render(&messages, true)?;
        match mode {
            PromptMode::Think => s += "<think>\n",
            PromptMode::NoThink => s += "<think>\n\n</think>\n",
            _ => {}
        }
        Ok(s)
    }
}
