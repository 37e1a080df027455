//! Workspace tidy test: enforces the machine-checkable "Architecture Invariant:" lines of
//! `ARCHITECTURE.md` (in the spirit of rust-analyzer's tidy test).

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, skipping `target` and hidden folders.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "snapshots" {
            continue;
        }
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("examples/tests/tidy.rs")
        {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn workspace_crates() -> Vec<PathBuf> {
    let toml = fs::read_to_string(root().join("Cargo.toml")).expect("root Cargo.toml");
    let members = toml
        .split("members")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .expect("members list");
    members
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|m| root().join(m))
        .collect()
}

/// Strips `//` comments and string literals poorly but well enough for banned-token scans.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter(|(_, l)| {
        let t = l.trim_start();
        !(t.starts_with("//") || t.starts_with("///") || t.starts_with("//!") || t.starts_with('*'))
    })
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn core_does_no_io() {
    let core = root().join("linstor-core");
    let manifest = fs::read_to_string(core.join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or("")
        .split("[dev-dependencies]")
        .next()
        .unwrap_or("");
    for banned in [
        "tokio",
        "nix",
        "libc",
        "rand",
        "getrandom",
        "async-std",
        "mio",
        "reqwest",
    ] {
        assert!(
            !deps
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{banned} "))
                    || l.trim_start().starts_with(&format!("{banned}="))),
            "linstor-core must not depend on {banned} (ARCHITECTURE.md: linstor-core does no IO)"
        );
    }
    let banned = [
        "std::process",
        "std::fs",
        "std::net::Tcp",
        "std::net::Udp",
        "SystemTime",
        "Instant::now",
        "std::env::var",
        "std::io::stdin",
        "tokio::",
        "thread_rng",
        "println!",
        "eprintln!",
        "std::thread::sleep",
    ];
    let mut bad = Vec::new();
    for f in rust_files(&core.join("src")) {
        let text = fs::read_to_string(&f).unwrap();
        for (i, l) in code_lines(&text) {
            for b in banned {
                if l.contains(b) {
                    bad.push(format!("{}:{}: {b}", rel(&f), i + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "IO in linstor-core (ARCHITECTURE.md forbids it):\n{}",
        bad.join("\n")
    );
}

#[test]
fn commands_only_through_the_runner() {
    let mut bad = Vec::new();
    for krate in workspace_crates() {
        for f in rust_files(&krate) {
            let r = rel(&f);
            if r == "linstor-backends/src/runner.rs"
                || r.starts_with("examples/tests/")
                || r.contains("/tests/")
            {
                continue;
            }
            let text = fs::read_to_string(&f).unwrap();
            for (i, l) in code_lines(&text) {
                if l.contains("process::Command")
                    || l.contains("Command::new(") && l.contains("process")
                {
                    bad.push(format!("{r}:{}", i + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "external commands outside linstor-backends::runner:\n{}",
        bad.join("\n")
    );
}

#[test]
fn unsafe_only_in_ffi_and_documented() {
    let mut bad = Vec::new();
    for krate in workspace_crates() {
        let in_ffi = krate.ends_with("linstor-ffi");
        for f in rust_files(&krate) {
            let text = fs::read_to_string(&f).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                let t = l.trim_start();
                if t.starts_with("//") {
                    continue;
                }
                let has_unsafe_block = t.contains("unsafe {");
                if (t.contains("unsafe ") || t.contains("unsafe{"))
                    && !in_ffi
                    && !t.contains("unsafe_code")
                {
                    bad.push(format!("{}:{}: unsafe outside linstor-ffi", rel(&f), i + 1));
                }
                if in_ffi && has_unsafe_block {
                    let documented = lines[..i]
                        .iter()
                        .rev()
                        .take(6)
                        .any(|p| p.contains("SAFETY:"))
                        || l.contains("SAFETY:");
                    if !documented {
                        bad.push(format!(
                            "{}:{}: unsafe block without // SAFETY:",
                            rel(&f),
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn every_source_file_has_a_module_doc_and_no_should_panic() {
    let mut bad = Vec::new();
    for krate in workspace_crates() {
        for f in rust_files(&krate) {
            let text = fs::read_to_string(&f).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") && !first.starts_with("#![") {
                bad.push(format!("{}: no //! module doc", rel(&f)));
            }
            if code_lines(&text).any(|(_, l)| l.contains("#[should_panic")) {
                bad.push(format!("{}: #[should_panic]", rel(&f)));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn architecture_md_names_every_crate() {
    let arch = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md exists");
    assert!(arch.matches("Architecture Invariant:").count() >= 5);
    for krate in workspace_crates() {
        let name = krate.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            arch.contains(&format!("`{name}`")),
            "ARCHITECTURE.md does not describe crate {name}"
        );
    }
}

#[test]
fn lints_are_declared_once() {
    for krate in workspace_crates() {
        let m = fs::read_to_string(krate.join("Cargo.toml")).unwrap();
        assert!(
            m.contains("[lints]") && m.contains("workspace = true"),
            "{} must inherit [workspace.lints]",
            rel(&krate)
        );
    }
}
