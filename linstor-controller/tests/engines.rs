//! The store engines end to end, on the real binary and real servers (`scripts/test-services`
//! starts them; the README's test command does): a cluster made on SQLite is exported,
//! imported into etcd and into PostgreSQL, and a controller on each serves the same REST lists;
//! a controller whose database does not answer refuses to start and says what to check.

#![allow(clippy::print_stdout)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Controller, binary, seed_cluster, spawn_body};
use serde_json::{Value, json};

/// Every list a client reads; each must be the same on every engine.
const LISTS: &[&str] = &[
    "/v1/nodes",
    "/v1/view/storage-pools",
    "/v1/storage-pool-definitions",
    "/v1/resource-groups",
    "/v1/resource-definitions",
    "/v1/view/resources",
    "/v1/view/snapshots",
    "/v1/key-value-store",
    "/v1/controller/properties",
];

fn lists(c: &Controller) -> Vec<(String, Value)> {
    LISTS
        .iter()
        .map(|p| ((*p).to_owned(), c.ok("GET", p, None)))
        .collect()
}

/// A cluster with an object of every kind, made through the REST API.
fn make_cluster(c: &Controller) {
    seed_cluster(c, 3);
    for name in ["web", "db", "Logs"] {
        c.ok(
            "POST",
            "/v1/resource-groups/rg3/spawn",
            Some(&spawn_body(name, 10_240)),
        );
    }
    c.ok(
        "POST",
        "/v1/resource-definitions/web/snapshots",
        Some(&json!({"name": "s1"})),
    );
    c.ok(
        "PUT",
        "/v1/key-value-store/csi",
        Some(&json!({"override_props": {"a/b": "c"}})),
    );
    c.ok(
        "POST",
        "/v1/controller/properties",
        Some(&json!({"override_props": {"Aux/site": "lab"}})),
    );
    c.ok(
        "POST",
        "/v1/storage-pool-definitions",
        Some(&json!({"storage_pool_name": "archive", "props": {"Aux/tier": "hdd"}})),
    );
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .output()
        .expect("the controller binary runs")
}

fn write_config(dir: &Path, db: &str) -> String {
    let path = dir.join("linstor.toml");
    std::fs::write(&path, db).expect("write the config");
    path.display().to_string()
}

/// The `[db]` sections of the real servers, each in a place of its own: `None` without them.
fn targets(tag: &str) -> Option<Vec<(&'static str, String)>> {
    let eps = std::env::var("LINSTOR_TEST_ETCD_ENDPOINTS").ok()?;
    let pg = std::env::var("LINSTOR_TEST_POSTGRES_URL").ok()?;
    let db = format!("engines_{tag}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&pg, postgres::NoTls).expect("PostgreSQL answers");
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        admin.batch_execute(&sql).expect("create the database");
    }
    let (base, _) = pg.rsplit_once('/').expect("a database in the URL");
    Some(vec![
        (
            "etcd",
            format!(
                "[db]\nconnection_url = \"etcd://{eps}\"\n[db.etcd]\nprefix = \"/engines-{tag}-{}/\"\n",
                std::process::id()
            ),
        ),
        (
            "postgresql",
            format!("[db]\nconnection_url = \"jdbc:{base}/{db}\"\n"),
        ),
    ])
}

#[test]
fn real_a_sqlite_cluster_exported_and_imported_into_etcd_and_postgres_lists_the_same() {
    let Some(targets) = targets("move") else {
        println!(
            "SKIP real engines: set LINSTOR_TEST_ETCD_ENDPOINTS and LINSTOR_TEST_POSTGRES_URL (scripts/test-services up DIR)"
        );
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let lite = tmp.path().join("sqlite");
    let mut c = Controller::start(&lite, &["--simulate-satellites"]);
    make_cluster(&c);
    let want = lists(&c);
    c.stop();
    let file = tmp.path().join("export.json");
    let out = run(&[
        "--data-dir",
        &lite.display().to_string(),
        "export",
        "--file",
        &file.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (engine, db) in targets {
        let dir = tmp.path().join(engine);
        std::fs::create_dir_all(&dir).expect("dir");
        let cfg = write_config(&dir, &db);
        let data = dir.display().to_string();
        let import = [
            "--config",
            &cfg,
            "--data-dir",
            &data,
            "import",
            "--file",
            &file.display().to_string(),
        ];
        let out = run(&import);
        assert!(
            out.status.success(),
            "{engine} import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A second import is refused: the target is not empty, and nothing changes.
        let again = run(&import);
        let err = String::from_utf8_lossy(&again.stderr);
        assert!(
            !again.status.success() && err.contains("is not empty"),
            "{engine}: {err}"
        );
        let mut c = Controller::start(&dir, &["--config", &cfg, "--simulate-satellites"]);
        let got = lists(&c);
        for ((path, w), (_, g)) in want.iter().zip(&got) {
            assert_eq!(g, w, "{engine}: {path} differs after the move");
        }
        // The moved cluster takes writes and keeps them over a restart.
        c.ok(
            "POST",
            "/v1/resource-groups/rg3/spawn",
            Some(&spawn_body("after-move", 10_240)),
        );
        c.stop();
        let c = Controller::start(&dir, &["--config", &cfg, "--simulate-satellites"]);
        let rds = c.ok("GET", "/v1/resource-definitions", None);
        assert!(rds.to_string().contains("after-move"), "{engine}: {rds}");
    }
    clean_up("move");
}

/// Removes what [`targets`] made (the controllers are stopped).
fn clean_up(tag: &str) {
    let pid = std::process::id();
    if let (Ok(eps), Ok(pg)) = (
        std::env::var("LINSTOR_TEST_ETCD_ENDPOINTS"),
        std::env::var("LINSTOR_TEST_POSTGRES_URL"),
    ) {
        let _ = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args([
                "--endpoints",
                &eps,
                "del",
                "--prefix",
                &format!("/engines-{tag}-{pid}/"),
            ])
            .output();
        if let Ok(mut admin) = postgres::Client::connect(&pg, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS engines_{tag}_{pid}"));
        }
    }
}

#[test]
fn real_an_unreachable_database_stops_the_start_with_what_to_check() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            "[db]\nconnection_url = \"etcd://127.0.0.1:9\"\n",
            "etcd://127.0.0.1:9/LINSTOR/",
            "etcd members run",
        ),
        (
            "[db]\nconnection_url = \"postgresql://linstor:secret@127.0.0.1:9/linstor?connect_timeout=2\"\n",
            "postgresql://127.0.0.1:9/linstor",
            "PostgreSQL server runs",
        ),
    ];
    for (db, location, fix) in cases {
        let cfg = write_config(tmp.path(), db);
        let out = run(&[
            "--config",
            &cfg,
            "--data-dir",
            &tmp.path().display().to_string(),
            "--rest-bind",
            "127.0.0.1:0",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{location}: started anyway");
        assert!(
            err.contains(&format!("cannot open the database {location}")),
            "{err}"
        );
        assert!(err.contains(fix), "{err}");
        assert!(
            !err.contains("secret"),
            "the password is never printed: {err}"
        );
    }
}
