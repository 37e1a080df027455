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
    no_io("linstor-core");
}

#[test]
fn api_types_do_no_io() {
    no_io("linstor-api");
}

/// The crate `name` depends on no async runtime or randomness and calls no IO API.
fn no_io(name: &str) {
    let core = root().join(name);
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
            "{name} must not depend on {banned} (ARCHITECTURE.md: it does no IO)"
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
        "IO in {name} (ARCHITECTURE.md forbids it):\n{}",
        bad.join("\n")
    );
}

#[test]
fn commands_only_through_the_runner() {
    let mut bad = Vec::new();
    for krate in workspace_crates() {
        for f in rust_files(&krate) {
            let r = rel(&f);
            // The chaos run is a test harness outside the product (like tests/): it runs
            // scripts/local-cluster and losetup with fixed argv.
            if r == "linstor-backends/src/runner.rs"
                || r.starts_with("linstor-chaos/src/")
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

/// The sibling modules of `linstor-core/src/cluster/` one file refers to: `use super::x`,
/// `use super::{x, y::…}`, `super::x::` and `crate::cluster::x` (its `mod tests` left out).
fn cluster_refs(text: &str, modules: &[String], own: &str) -> Vec<String> {
    let code = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i]);
    let code: String = code_lines(code).map(|(_, l)| format!("{l}\n")).collect();
    let ident_at = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    for prefix in ["super::", "crate::cluster::"] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use super::{a, b::{c, d}, e}`: the names at the group's top level.
                let mut depth = 0usize;
                let mut at_start = true;
                for (j, ch) in group.char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => at_start = true,
                        c if c.is_whitespace() => {}
                        _ if at_start && depth == 0 => {
                            names.push(ident_at(&group[j..]));
                            at_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                names.push(ident_at(rest));
            }
        }
    }
    let mut out: Vec<String> = names
        .into_iter()
        .filter(|n| n != own && modules.contains(n))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn cluster_modules_import_no_sibling_that_imports_them_back() {
    let dir = root().join("linstor-core/src/cluster");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for e in fs::read_dir(&dir).expect("cluster/ exists").flatten() {
        let p = e.path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.extension().is_some_and(|x| x == "rs") && stem != "mod" {
            files.push((stem, p));
        } else if p.is_dir() && p.join("mod.rs").exists() {
            files.push((stem, p.join("mod.rs")));
        }
    }
    files.sort();
    let modules: Vec<String> = files.iter().map(|(m, _)| m.clone()).collect();
    assert!(
        ["api", "ctx", "lookup", "ops_node", "ops_rsc"]
            .iter()
            .all(|m| modules.iter().any(|x| x == m)),
        "unexpected cluster/ layout: {modules:?}"
    );
    let edges: Vec<Vec<usize>> = files
        .iter()
        .map(|(m, p)| {
            let text = fs::read_to_string(p).unwrap();
            cluster_refs(&text, &modules, m)
                .iter()
                .map(|n| modules.iter().position(|x| x == n).expect("listed"))
                .collect()
        })
        .collect();
    // Depth-first search; a back edge is a cycle, named along the path.
    fn visit(
        u: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[u] = 1;
        path.push(u);
        for &v in &edges[u] {
            if state[v] == 1 {
                let from = path.iter().position(|&x| x == v).expect("on the path");
                let mut cycle = path[from..].to_vec();
                cycle.push(v);
                return Some(cycle);
            }
            if state[v] == 0 {
                if let Some(c) = visit(v, edges, state, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        state[u] = 2;
        None
    }
    let mut state = vec![0u8; modules.len()];
    for u in 0..modules.len() {
        if state[u] == 0 {
            if let Some(cycle) = visit(u, &edges, &mut state, &mut Vec::new()) {
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&i| format!("cluster/{}.rs", modules[i]))
                    .collect();
                panic!(
                    "import cycle between cluster modules (ARCHITECTURE.md: no module in cluster/ \
                     imports a sibling that imports it back): {}",
                    names.join(" -> ")
                );
            }
        }
    }
}

#[test]
fn cluster_refs_sees_every_form_of_reference() {
    let modules: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    let text = "use super::{Cluster, a::{X, Y}, b};\nuse crate::cluster::c::Z;\nfn f() { super::d::g(); }\n// super::e::h\n#[cfg(test)]\nmod tests {\n    use super::e;\n}\n";
    assert_eq!(cluster_refs(text, &modules, "x"), ["a", "b", "c", "d"]);
}

/// The modules of a crate: `src/x.rs` and `src/x/mod.rs` as `x`, one level down as `x::y`
/// (tests, test fixtures and `lib.rs` aside).
fn crate_modules(krate: &Path) -> Vec<String> {
    let src = krate.join("src");
    let mut out = Vec::new();
    let skip = |n: &str| matches!(n, "lib" | "mod" | "tests" | "snapshots");
    let Ok(entries) = fs::read_dir(&src) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let stem = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if skip(&stem) {
            continue;
        }
        if p.is_dir() {
            for c in fs::read_dir(&p).into_iter().flatten().flatten() {
                let cp = c.path();
                let child = cp
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                if cp.extension().is_some_and(|x| x == "rs") && !skip(&child) {
                    out.push(format!("{stem}::{child}"));
                }
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(stem);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn architecture_md_code_map_matches_the_tree() {
    let map = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut missing = Vec::new();
    for krate in [
        "linstor-core",
        "linstor-backends",
        "linstor-drbd",
        "linstor-ffi",
        "linstor-api",
        "linstor-controller",
        "linstor-link",
        "linstor-proto",
        "linstor-satellite",
        "linstor-cli",
        "linstor-chaos",
        "linstor-fuzz",
    ] {
        let heading = format!("### `{krate}`");
        let section = map
            .split(&heading)
            .nth(1)
            .and_then(|s| s.split("\n### ").next())
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no section {heading}"));
        for m in crate_modules(&root().join(krate)) {
            // Nested modules are named `parent::child`.
            if !section.contains(&format!("`{m}`")) {
                missing.push(format!("{krate}: `{m}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules missing from ARCHITECTURE.md's code map:\n{}",
        missing.join("\n")
    );
}

#[test]
fn drbd_renders_from_projections_not_the_whole_state() {
    for f in rust_files(&root().join("linstor-drbd/src")) {
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in code_lines(&text) {
            assert!(
                !line.contains("ClusterState"),
                "{}:{}: linstor-drbd reads a NodeProjection, not the whole ClusterState",
                rel(&f),
                i + 1
            );
        }
    }
}

#[test]
fn inputs_deny_unknown_fields_and_are_decoded_in_one_place() {
    let inputs: &[(&str, &str)] = &[
        ("linstor-core/src/cluster/api.rs", "Command"),
        ("linstor-core/src/cluster/api.rs", "NetIfSpec"),
        ("linstor-core/src/cluster/api.rs", "NodePlacement"),
        ("linstor-core/src/model.rs", "SelectFilter"),
        ("linstor-core/src/model.rs", "RscObserved"),
        ("linstor-core/src/model.rs", "Capabilities"),
        ("linstor-core/src/props.rs", "PropsModify"),
    ];
    for (file, ty) in inputs {
        let text = fs::read_to_string(root().join(file)).unwrap();
        let at = text
            .find(&format!("pub struct {ty} "))
            .or_else(|| text.find(&format!("pub enum {ty} ")))
            .unwrap_or_else(|| panic!("{file}: no type {ty}"));
        let attrs = text[..at].rsplit("\n\n").next().unwrap_or("");
        assert!(
            attrs.contains("deny_unknown_fields"),
            "{file}: {ty} is decoded from client input and must deny unknown fields"
        );
    }
    for f in rust_files(&root().join("linstor-ffi/src")) {
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in code_lines(&text) {
            assert!(
                !line.contains("serde_json::from_str"),
                "{}:{}: decode inputs through linstor_core::decode",
                rel(&f),
                i + 1
            );
        }
    }
}

#[test]
fn the_controller_never_touches_storage_and_only_its_store_uses_the_database() {
    let manifest = fs::read_to_string(root().join("linstor-controller/Cargo.toml")).unwrap();
    for dep in ["linstor-backends", "linstor-drbd"] {
        assert!(
            !manifest.contains(dep),
            "linstor-controller must not depend on {dep}: storage is the satellite's"
        );
    }
    for f in rust_files(&root().join("linstor-controller/src")) {
        let r = rel(&f);
        if r.contains("/store/") {
            continue;
        }
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in code_lines(&text) {
            // `store::postgres::…` is our module; a bare `postgres::` is the client crate.
            let line = line.replace("store::postgres::", "store::");
            for client in ["rusqlite", "postgres::", "etcd_client"] {
                assert!(
                    !line.contains(client),
                    "{r}:{}: only linstor-controller/src/store talks to the database ({client})",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn the_link_knows_no_message_type_and_no_domain() {
    let manifest = fs::read_to_string(root().join("linstor-link/Cargo.toml")).unwrap();
    for line in manifest.lines() {
        let dep = line.split(['=', '.', ' ']).next().unwrap_or("");
        // `linstor-fuzz` (a dev-dependency) is a test tool that depends on no workspace crate.
        assert!(
            !dep.starts_with("linstor-") || dep == "linstor-fuzz",
            "linstor-link/Cargo.toml: {line:?}: the transport depends on no workspace crate \
             (ARCHITECTURE.md: the controller and satellite define their messages)"
        );
    }
}

#[test]
fn the_proto_knows_no_transport() {
    let manifest = fs::read_to_string(root().join("linstor-proto/Cargo.toml")).unwrap();
    for line in manifest.lines() {
        let dep = line.split(['=', '.', ' ']).next().unwrap_or("");
        assert!(
            !["linstor-link", "tokio", "linstor-backends", "linstor-drbd"].contains(&dep),
            "linstor-proto/Cargo.toml: {line:?}: the messages know no transport and no executor"
        );
    }
}

#[test]
fn the_cli_knows_the_controller_only_through_rest() {
    let manifest = fs::read_to_string(root().join("linstor-cli/Cargo.toml")).unwrap();
    for line in manifest.lines() {
        let dep = line.split(['=', '.', ' ']).next().unwrap_or("");
        assert!(
            !dep.starts_with("linstor-")
                || ["linstor-api", "linstor-core", "linstor-cli"].contains(&dep),
            "linstor-cli/Cargo.toml: {line:?}: the CLI depends on linstor-api and linstor-core \
             only; it reaches the controller through REST (ARCHITECTURE.md)"
        );
    }
}

#[test]
fn satellites_decide_nothing() {
    for f in rust_files(&root().join("linstor-satellite/src")) {
        let text = fs::read_to_string(&f).unwrap();
        for (i, line) in code_lines(&text) {
            for banned in ["Cluster::", "cluster::Cluster", "placement::"] {
                assert!(
                    !line.contains(banned),
                    "{}:{}: `{banned}`: a satellite executes the core's plan; decisions stay in \
                     the core (ARCHITECTURE.md)",
                    rel(&f),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn the_chaos_run_sees_the_cluster_only_from_outside() {
    let manifest = fs::read_to_string(root().join("linstor-chaos/Cargo.toml")).unwrap();
    for line in manifest.lines() {
        let dep = line.split(['=', ' ', '.']).next().unwrap_or_default();
        assert!(
            !dep.starts_with("linstor-") || dep == "linstor-cli" || line.starts_with("name"),
            "linstor-chaos/Cargo.toml: {line:?}: the chaos run talks REST (through linstor-cli's \
             client) and reads files; it links no controller, satellite, storage or core crate"
        );
    }
}
