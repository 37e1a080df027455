//! The committed header `include/linstor.h` must be what cbindgen generates from the code.

use std::path::Path;

#[test]
fn header_matches_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = dir.join("include/linstor.h");
    if std::env::var_os("LINSTOR_FFI_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/linstor.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        let show = |s: &str| s.lines().skip(first).take(5).collect::<Vec<_>>().join("\n");
        panic!(
            "include/linstor.h has drifted from the code (first difference at line {}).\n\
             --- committed:\n{}\n+++ generated:\n{}\n\
             Regenerate it with: LINSTOR_FFI_BLESS=1 cargo test -p linstor-ffi --test header",
            first + 1,
            show(&committed),
            show(&generated)
        );
    }
}

#[test]
fn header_version_defines_match_cargo_toml() {
    let h = include_str!("../include/linstor.h");
    for (name, value) in [
        ("LINSTOR_FFI_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("LINSTOR_FFI_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("LINSTOR_FFI_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {value}");
        assert!(h.contains(&line), "include/linstor.h lacks `{line}`");
    }
}
