//! `-m`: what the controller answered, as JSON, for lists and for changes (the real
//! `linstor-controller` with simulated satellites); and the human output of a spawn that waits
//! for its replicas.

mod common;

use std::path::Path;

use common::{Controller, controller_binary, run_ours};
use serde_json::Value;

fn ours() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_linstor"))
}

fn json_of(args: &[&str], c: &Controller) -> Value {
    let out = run_ours(ours(), &c.addr, args);
    assert!(out.ok(), "{args:?}: {out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

#[test]
fn machine_readable_output_is_the_rest_json() {
    let c = Controller::start(&controller_binary(false));
    // A change: the answer entries, with their ret_codes.
    let created = json_of(&["-m", "node", "create", "n1", "127.0.0.1"], &c);
    assert!(
        created[0]["ret_code"].as_i64().is_some_and(|rc| rc > 0),
        "{created}"
    );
    for n in ["n2", "n3"] {
        json_of(&["-m", "node", "create", n, "127.0.0.1"], &c);
    }
    for n in ["n1", "n2", "n3"] {
        json_of(
            &[
                "-m",
                "sp",
                "c",
                "filethin",
                n,
                "pool1",
                "/tmp/linstor-cli-m",
            ],
            &c,
        );
    }
    json_of(
        &["-m", "rg", "c", "grp1", "--place-count", "2", "-s", "pool1"],
        &c,
    );
    json_of(&["-m", "vg", "c", "grp1"], &c);
    json_of(&["-m", "rg", "spawn", "grp1", "res1", "10M"], &c);
    // Lists: exactly what GET answers.
    for (args, path) in [
        (vec!["-m", "node", "list"], "/v1/nodes"),
        (vec!["-m", "sp", "l"], "/v1/view/storage-pools"),
        (vec!["-m", "rg", "l"], "/v1/resource-groups"),
        (vec!["-m", "r", "l"], "/v1/view/resources"),
        (vec!["-m", "rd", "l"], "/v1/resource-definitions"),
    ] {
        assert_eq!(json_of(&args, &c), c.get(path), "{args:?}");
    }
    // A refusal under -m: the entry, and exit 10.
    let out = run_ours(
        ours(),
        &c.addr,
        &["-m", "node", "create", "bad-", "1.2.3.4"],
    );
    assert_eq!(out.status.and_then(|s| s.code()), Some(10), "{out}");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert!(v[0]["ret_code"].as_i64().is_some_and(|rc| rc < 0), "{v}");
    assert!(v[0]["correction"].is_string(), "{v}");

    // Without -m a spawn waits for its replicas and says so (a pipe: the final line only).
    let out = run_ours(ours(), &c.addr, &["rg", "spawn", "grp1", "res2", "10M"]);
    assert!(out.ok(), "{out}");
    assert!(out.stdout.contains("'res2': 3/3 replica(s) ready"), "{out}");
    let out = run_ours(
        ours(),
        &c.addr,
        &["rg", "spawn", "grp1", "res3", "10M", "--async"],
    );
    assert!(out.ok() && !out.stdout.contains("ready"), "{out}");
    // The human error output names no ret_code.
    let out = run_ours(ours(), &c.addr, &["node", "create", "bad-", "1.2.3.4"]);
    assert_eq!(out.status.and_then(|s| s.code()), Some(10), "{out}");
    assert!(
        out.stdout.starts_with("ERROR:") && !out.stdout.contains("ret_code"),
        "{out}"
    );
}
