//! Crate rules checked by `cargo test`: every Rust file starts with `//!` module docs, and
//! processes are started only in `src/runner.rs` (the one command runner).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = Vec::new();
    rust_files(&root.join("src"), &mut v);
    rust_files(&root.join("tests"), &mut v);
    v.sort();
    v
}

#[test]
fn every_file_has_module_docs() {
    for f in files() {
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(
            text.starts_with("//!"),
            "{} does not start with //! module docs",
            f.display()
        );
    }
}

#[test]
fn processes_are_started_only_by_the_runner() {
    let banned = ["process::Command", "Command::new(", "std::process::Child"];
    for f in files() {
        if f.ends_with("src/runner.rs") || f.ends_with("tests/tidy.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("read");
        for b in banned {
            assert!(
                !text.contains(b),
                "{} uses {b}; run commands through the CommandRunner",
                f.display()
            );
        }
    }
}
