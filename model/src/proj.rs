//! The seven projections of a decoder block, named once: the attention's q/k/v/o and the MLP's
//! gate/up/down. Weight names and shapes, GGUF names, the block's layers, LoRA targets and the
//! named tensors of a model all go by this table.

use crate::config::ModelConfig;

/// One projection (linear layer) of a decoder block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proj {
    Q,
    K,
    V,
    O,
    Gate,
    Up,
    Down,
}

impl Proj {
    /// All seven, in Hugging Face order (the order of a block's named tensors).
    pub const ALL: [Proj; 7] = [
        Proj::Q,
        Proj::K,
        Proj::V,
        Proj::O,
        Proj::Gate,
        Proj::Up,
        Proj::Down,
    ];
    /// The attention's four.
    pub const ATTENTION: [Proj; 4] = [Proj::Q, Proj::K, Proj::V, Proj::O];
    /// The MLP's three.
    pub const MLP: [Proj; 3] = [Proj::Gate, Proj::Up, Proj::Down];

    /// The module name (`q_proj`): a LoRA target, PEFT's `target_modules`.
    pub const fn name(self) -> &'static str {
        match self {
            Proj::Q => "q_proj",
            Proj::K => "k_proj",
            Proj::V => "v_proj",
            Proj::O => "o_proj",
            Proj::Gate => "gate_proj",
            Proj::Up => "up_proj",
            Proj::Down => "down_proj",
        }
    }

    /// The name within a block (`self_attn.q_proj`, `mlp.gate_proj`).
    pub const fn path(self) -> &'static str {
        match self {
            Proj::Q => "self_attn.q_proj",
            Proj::K => "self_attn.k_proj",
            Proj::V => "self_attn.v_proj",
            Proj::O => "self_attn.o_proj",
            Proj::Gate => "mlp.gate_proj",
            Proj::Up => "mlp.up_proj",
            Proj::Down => "mlp.down_proj",
        }
    }

    /// llama.cpp's name within a block (`attn_q`, `ffn_down`).
    pub const fn gguf_name(self) -> &'static str {
        match self {
            Proj::Q => "attn_q",
            Proj::K => "attn_k",
            Proj::V => "attn_v",
            Proj::O => "attn_output",
            Proj::Gate => "ffn_gate",
            Proj::Up => "ffn_up",
            Proj::Down => "ffn_down",
        }
    }

    /// The projection with this module name (`q_proj`).
    pub fn from_name(name: &str) -> Option<Proj> {
        Proj::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The Hugging Face name prefix in layer `layer` (`model.layers.3.self_attn.q_proj`).
    pub fn hf_prefix(self, layer: usize) -> String {
        format!("model.layers.{layer}.{}", self.path())
    }

    /// Whether the family may give this projection a bias (q, k and v, with `attention_bias`).
    pub const fn may_have_bias(self) -> bool {
        matches!(self, Proj::Q | Proj::K | Proj::V)
    }

    /// Whether this projection has a bias under `cfg`.
    pub fn has_bias(self, cfg: &ModelConfig) -> bool {
        cfg.attention_bias && self.may_have_bias()
    }

    /// The weight's shape `(out, in)` under `cfg` (a bias has `out` elements).
    pub fn shape(self, cfg: &ModelConfig) -> (usize, usize) {
        let h = cfg.hidden_size;
        let q = cfg.num_attention_heads * cfg.head_dim;
        let kv = cfg.num_key_value_heads * cfg.head_dim;
        let f = cfg.intermediate_size;
        match self {
            Proj::Q => (q, h),
            Proj::K | Proj::V => (kv, h),
            Proj::O => (h, q),
            Proj::Gate | Proj::Up => (f, h),
            Proj::Down => (h, f),
        }
    }
}
