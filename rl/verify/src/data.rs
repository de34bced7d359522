//! Embedded data files (see `data/README.md` and `scripts/verify/gen_data.py`).

/// Inflate a zlib stream embedded with `include_bytes!` (our own data: a failure is a build bug,
/// reported as an empty table rather than a panic).
pub fn inflate(raw: &[u8]) -> String {
    match miniz_oxide::inflate::decompress_to_vec_zlib(raw) {
        Ok(v) => String::from_utf8(v).unwrap_or_default(),
        Err(_) => String::new(),
    }
}
