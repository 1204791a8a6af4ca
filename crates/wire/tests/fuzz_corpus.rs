//! Replays the fuzzer's corpus (`fuzz/corpus/parse_activity`) through the same
//! entry point the fuzz target calls, so every input that ever mattered to the
//! fuzzer is checked on every test run: none may panic.

#[test]
fn the_fuzz_corpus_never_panics() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/parse_activity"
    );
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz/corpus/parse_activity") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| parley_wire::fuzz_activity(&data));
        assert!(outcome.is_ok(), "{} panics", path.display());
        count += 1;
    }
    assert!(count >= 30, "the corpus has only {count} inputs");
}
