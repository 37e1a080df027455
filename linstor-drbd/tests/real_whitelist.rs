//! The checked-in option whitelist must equal what the installed `drbdsetup xml-help` prints.
//!
//! Run with `LINSTOR_DRBD_BLESS=1` to rewrite `linstor-core/data/drbd-options.json` from the installed tools.

mod common;

use linstor_drbd::options::{OptionWhitelist, XML_HELP_COMMANDS};

#[test]
fn real_whitelist_matches_drbdsetup_xml_help() {
    let Some(drbdsetup) = common::tool("drbdsetup", "real_whitelist_matches_drbdsetup_xml_help")
    else {
        return;
    };
    let Some(drbdadm) = common::tool("drbdadm", "real_whitelist_matches_drbdsetup_xml_help") else {
        return;
    };
    let version = linstor_drbd::version::parse_drbdadm_version(&common::stdout(&common::run(
        &drbdadm,
        &["--version"],
        &[],
    )))
    .utils
    .expect("drbdadm --version reports DRBDADM_VERSION");
    let outputs: Vec<(&str, String)> = XML_HELP_COMMANDS
        .iter()
        .map(|(cmd, _)| {
            let out = common::run(&drbdsetup, &["xml-help", cmd], &[]);
            assert!(
                out.status.success(),
                "drbdsetup xml-help {cmd}: {}",
                common::text(&out)
            );
            (*cmd, common::stdout(&out))
        })
        .collect();
    let pairs: Vec<(&str, &str)> = outputs.iter().map(|(c, x)| (*c, x.as_str())).collect();
    let fresh =
        OptionWhitelist::from_xml_help(&version.to_string(), &pairs).expect("xml-help parses");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../linstor-core/data/drbd-options.json");
    if std::env::var_os("LINSTOR_DRBD_BLESS").is_some() {
        std::fs::write(&path, fresh.to_json()).expect("write whitelist");
        return;
    }
    let builtin = OptionWhitelist::builtin();
    assert_eq!(
        &fresh.sections, &builtin.sections,
        "data/drbd-options.json (from drbd-utils {}) differs from drbdsetup xml-help of the installed drbd-utils {}; \
         regenerate with LINSTOR_DRBD_BLESS=1 cargo test -p linstor-drbd --test real_whitelist",
        builtin.drbd_utils_version, version
    );
}
