//! The store engines end to end, on the real binary and real servers (`scripts/test-services`
//! starts them; the README's test command does): a cluster made on SQLite is exported,
//! imported into etcd and into PostgreSQL, and a controller on each serves the same REST lists;
//! a controller whose database does not answer refuses to start and says what to check; a
//! write while the database is down (PostgreSQL stopped, every etcd member killed) is never
//! acknowledged and never stored.

#![allow(clippy::print_stdout)]

mod common;

use std::os::unix::fs::PermissionsExt;
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

/// A private etcd + PostgreSQL (`scripts/test-services` on other ports), stopped and removed
/// when dropped.
struct Private {
    dir: tempfile::TempDir,
    eps: String,
    pg: String,
}

impl Private {
    fn up(base: u16) -> Option<Private> {
        let dir = tempfile::Builder::new()
            .prefix("engines-svc")
            .tempdir_in("/tmp")
            .ok()?;
        // PostgreSQL runs as its own user and must reach its directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).ok()?;
        let svc = dir.path().join("svc");
        let out = services(&["up", &svc.display().to_string(), &base.to_string()]);
        let env = String::from_utf8_lossy(&out.stdout).into_owned();
        let var = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("export {k}=")))
                .map(str::to_owned)
        };
        Some(Private {
            eps: var("LINSTOR_TEST_ETCD_ENDPOINTS")?,
            pg: var("LINSTOR_TEST_POSTGRES_URL")?,
            dir,
        })
    }

    fn svc(&self, args: &[&str]) {
        let svc = self.dir.path().join("svc").display().to_string();
        let mut all = vec![args[0], svc.as_str()];
        all.extend_from_slice(&args[1..]);
        let out = services(&all);
        assert!(
            out.status.success(),
            "test-services {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let svc = self.dir.path().join("svc").display().to_string();
        services(&["down", &svc]);
    }
}

fn services(args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-services");
    Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .expect("bash runs")
}

/// A write while the database is down: never acknowledged, never stored.
fn outage(engine: &str, db: &str, down: impl Fn(), up: impl Fn()) {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = write_config(tmp.path(), db);
    let rd = |name: &str| json!({"resource_definition": {"name": name}});
    let mut c = Controller::start(tmp.path(), &["--config", &cfg, "--simulate-satellites"]);
    c.ok("POST", "/v1/resource-definitions", Some(&rd("before")));
    down();
    let answer = c.try_call("POST", "/v1/resource-definitions", Some(&rd("during")));
    assert!(
        !answer.as_ref().is_some_and(|(s, _)| (200..300).contains(s)),
        "{engine}: a write was acknowledged while the database was down: {answer:?}"
    );
    up();
    // The controller either kept running (and reconnected) or stopped itself; either way, after
    // a restart the state is what was acknowledged.
    c.kill9();
    let c = Controller::start(tmp.path(), &["--config", &cfg, "--simulate-satellites"]);
    let started = std::time::Instant::now();
    let list = loop {
        if let Some((200, v)) = c.try_call("GET", "/v1/resource-definitions", None) {
            break v.to_string();
        }
        assert!(
            started.elapsed().as_secs() < 20,
            "{engine}: no active controller after the outage"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(list.contains("\"before\""), "{engine}: {list}");
    assert!(
        !list.contains("\"during\""),
        "{engine}: the refused write is stored: {list}"
    );
}

#[test]
fn real_a_write_during_a_database_outage_is_never_acknowledged() {
    if std::env::var("LINSTOR_TEST_POSTGRES_URL").is_err() {
        println!(
            "SKIP real outage: the database servers are not installed here (scripts/test-services)"
        );
        return;
    }
    let p = Private::up(25790).expect("private etcd and PostgreSQL start");
    let pg = format!("[db]\nconnection_url = \"{}\"\n", p.pg);
    outage(
        "postgresql",
        &pg,
        || p.svc(&["stop-postgres"]),
        || p.svc(&["start-postgres"]),
    );
    let etcd = format!("[db]\nconnection_url = \"etcd://{}\"\n", p.eps);
    let every = |what: &str| {
        for n in ["1", "2", "3"] {
            p.svc(&[what, n]);
        }
    };
    outage(
        "etcd",
        &etcd,
        || every("kill-member"),
        || every("start-member"),
    );
}
