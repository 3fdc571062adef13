//! Encodings every backend stores the same way: risk states as their names and
//! embeddings as little-endian `f32` bytes.

use candor_core::RiskState;

use crate::error::{Result, StoreError};

pub(crate) fn parse_state(s: &str) -> Option<RiskState> {
    RiskState::ALL.into_iter().find(|st| st.as_str() == s)
}

pub(crate) fn embedding_to_blob(e: &[f32]) -> Vec<u8> {
    e.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub(crate) fn blob_to_embedding(b: &[u8], dims: u32) -> Result<Vec<f32>> {
    if b.len() != dims as usize * 4 {
        return Err(StoreError::Backend(format!(
            "corrupt row: embedding of {} bytes for {dims} dimensions",
            b.len()
        )));
    }
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}
