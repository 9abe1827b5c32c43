//! `load_index` on arbitrary bytes (and on bytes derived from a valid index) never panics, and a
//! refused load leaves the current index as it was.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minirank::index::{Document, VectorIndex};

fuzz_target!(|data: &[u8]| {
    let _ = VectorIndex::from_bytes(data, None);
    let _ = VectorIndex::from_bytes(data, Some((3, 7)));
    // a valid index whose vector bytes and a tail come from the input
    let mut ix = VectorIndex::new(3, 7);
    let v: Vec<f32> = data.chunks(4).take(3).map(|c| c.iter().fold(0f32, |a, &b| a + b as f32)).collect();
    if v.len() == 3 {
        let _ = ix.add(vec![Document::new("a", "text")], vec![v]);
        let mut bytes = ix.to_bytes();
        let cut = data.first().map_or(0, |&b| b as usize % (bytes.len() + 1));
        bytes.truncate(cut.max(1));
        bytes.extend_from_slice(data);
        if let Ok(back) = VectorIndex::from_bytes(&bytes, Some((3, 7))) {
            assert_eq!(VectorIndex::from_bytes(&back.to_bytes(), Some((3, 7))).ok(), Some(back));
        }
    }
});
