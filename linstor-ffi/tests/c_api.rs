//! Drives the C side: compiles `tests/c/api_test.c` and `examples/capacity_plan.c` with gcc
//! against `include/linstor.h` and the freshly built `liblinstor_ffi.so`, runs them, and runs
//! the API test under valgrind. Tests that run real tools are named `real_*`; they skip (saying
//! why) only when gcc or valgrind is absent.
#![allow(
    clippy::print_stderr,
    reason = "a skipped real_* test says why on stderr"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::SystemTime;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `liblinstor_ffi.so` as built for this test run: cargo builds the
/// library (all crate types) into `target/<profile>/deps` before the integration tests, and
/// uplifts it to `target/<profile>` only for `cargo build`; take the newer of the two.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    let profile = deps.parent().expect("profile dir").to_path_buf();
    let mtime = |d: &Path| -> Option<SystemTime> {
        std::fs::metadata(d.join("liblinstor_ffi.so"))
            .and_then(|m| m.modified())
            .ok()
    };
    match (mtime(&deps), mtime(&profile)) {
        (Some(a), Some(b)) if b > a => profile,
        (Some(_), _) => deps,
        (None, Some(_)) => profile,
        (None, None) => panic!(
            "liblinstor_ffi.so not found in {} or {}",
            deps.display(),
            profile.display()
        ),
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn show(o: &Output) -> String {
    format!(
        "status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Compiles one C file into an executable linked against the library; returns its path.
fn compile(source: &Path, name: &str) -> PathBuf {
    compile_with(source, name, &[])
        .unwrap_or_else(|o| panic!("gcc failed on {}:\n{}", source.display(), show(&o)))
}

/// [`compile`] with extra gcc flags; the gcc output on failure.
fn compile_with(source: &Path, name: &str, extra: &[&str]) -> Result<PathBuf, Output> {
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let exe = out_dir.join(name);
    let lib = lib_dir();
    let o = Command::new("gcc")
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-g",
            "-O0",
        ])
        .args(extra)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(source)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        .arg("-llinstor_ffi")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .output()
        .expect("run gcc");
    if o.status.success() { Ok(exe) } else { Err(o) }
}

/// The compiled API test, built once per run (tests run in parallel; compiling the same
/// executable twice at once would race with running it: "text file busy").
fn api_test() -> Option<PathBuf> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(|| {
        if !have("gcc") {
            eprintln!("SKIPPED: gcc is not installed (CI installs it; see .ci/run)");
            return None;
        }
        Some(compile(&crate_dir().join("tests/c/api_test.c"), "api_test"))
    })
    .clone()
}

#[test]
fn real_c_api_test_passes() {
    let Some(exe) = api_test() else { return };
    let o = Command::new(&exe).output().expect("run api_test");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "C API test failed:\n{}", show(&o));
    assert!(
        out.contains(", 0 failed"),
        "unexpected output:\n{}",
        show(&o)
    );
}

#[test]
fn real_c_api_test_is_clean_under_valgrind() {
    let Some(exe) = api_test() else { return };
    if !have("valgrind") {
        eprintln!("SKIPPED: valgrind is not installed (CI installs it; see .ci/run)");
        return;
    }
    let o = Command::new("valgrind")
        .args([
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=1",
        ])
        .arg(&exe)
        .output()
        .expect("run valgrind");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "valgrind reported errors:\n{}",
        show(&o)
    );
    assert!(
        err.contains("ERROR SUMMARY: 0 errors"),
        "no clean valgrind summary:\n{}",
        show(&o)
    );
    assert!(
        err.contains("definitely lost: 0 bytes") || err.contains("All heap blocks were freed"),
        "leaks:\n{}",
        show(&o)
    );
}

#[test]
fn real_c_api_test_is_clean_under_asan_and_ubsan() {
    if !have("gcc") {
        eprintln!("SKIPPED: gcc is not installed (CI installs it; see .ci/run)");
        return;
    }
    let flags = [
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
    ];
    let exe = match compile_with(
        &crate_dir().join("tests/c/api_test.c"),
        "api_test_asan",
        &flags,
    ) {
        Ok(exe) => exe,
        Err(o) if String::from_utf8_lossy(&o.stderr).contains("san") => {
            eprintln!(
                "SKIPPED: gcc cannot link the sanitizer runtimes:\n{}",
                show(&o)
            );
            return;
        }
        Err(o) => panic!("gcc failed:\n{}", show(&o)),
    };
    // LeakSanitizer runs at exit and fails the process on a leak.
    let o = Command::new(&exe)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .output()
        .expect("run api_test_asan");
    assert!(
        o.status.success(),
        "sanitizers reported errors:\n{}",
        show(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(", 0 failed"),
        "{}",
        show(&o)
    );
}

#[test]
fn real_c_example_capacity_plan_runs() {
    if !have("gcc") {
        eprintln!("SKIPPED: gcc is not installed (CI installs it; see .ci/run)");
        return;
    }
    let exe = compile(
        &crate_dir().join("examples/capacity_plan.c"),
        "capacity_plan",
    );
    let o = Command::new(&exe).output().expect("run capacity_plan");
    assert!(o.status.success(), "capacity_plan failed:\n{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // 3 zones × 3 nodes × 1024 GiB: 20 volumes of 50 GiB per node, 60 per zone.
    for want in [
        "60 volumes of 50 GiB with 3 replicas",
        "60 of 60 volumes keep quorum",
        "cannot be rebuilt",
    ] {
        assert!(out.contains(want), "`{want}` not in the output:\n{out}");
    }
}

/// Every function the header declares is called by the C test.
#[test]
fn c_test_calls_every_exported_function() {
    let header = std::fs::read_to_string(crate_dir().join("include/linstor.h")).expect("header");
    let test = std::fs::read_to_string(crate_dir().join("tests/c/api_test.c")).expect("C test");
    let mut missing = Vec::new();
    let mut count = 0;
    for line in header.lines() {
        let Some(open) = line.find('(') else { continue };
        if line.starts_with(' ') || line.starts_with('#') || line.starts_with('*') {
            continue;
        }
        let name = line[..open].rsplit([' ', '*']).next().unwrap_or("");
        if !name.starts_with("linstor_") {
            continue;
        }
        count += 1;
        if !test.contains(&format!("{name}(")) {
            missing.push(name.to_owned());
        }
    }
    assert!(count > 40, "parsed only {count} functions from the header");
    assert!(
        missing.is_empty(),
        "not called by tests/c/api_test.c: {missing:?}"
    );
}
