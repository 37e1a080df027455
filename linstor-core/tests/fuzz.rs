//! Time-bounded fuzzing (`linstor-fuzz`; `FUZZ_SECONDS`, `FUZZ_SEED`) of the core's decoders
//! of outside input: JSON commands (`decode::decode_command`, what the C ABI, Python and
//! `Cluster::execute_json` take), names, sizes and property values. Inputs are recorded
//! commands mutated, and arbitrary bytes.

use linstor_core::cluster::{Cluster, SeededEnv};
use linstor_core::decode::decode_command;
use linstor_core::name::ResourceName;
use linstor_core::placement::capacity::parse_min_free;
use linstor_core::props::{parse_bool, parse_number_range};
use linstor_core::{NodeName, SizeKib, SnapshotName, StorPoolName};
use linstor_fuzz::fuzz;
use linstor_fuzz::mutate::{inputs, lossy};
use proptest::prelude::*;

/// Commands as clients send them (one per line).
const COMMANDS: &str = r#"{"cmd":"node_create","name":"n1","node_type":"Satellite","net_interfaces":[{"name":"default","address":"127.0.0.1"}]}
{"cmd":"stor_pool_create","node":"n1","name":"thin","kind":"FILE_THIN","props":{"StorDriver/StorPoolName":"/p"}}
{"cmd":"rsc_dfn_create","name":"r0"}
{"cmd":"vlm_dfn_create","rsc_dfn":"r0","size":8192}
{"cmd":"rsc_create","rsc_dfn":"r0","node":"n1","storage_pool":"thin"}
{"cmd":"ctrl_props_modify","props":{"override_props":{"Aux/site":"lab"}}}
{"cmd":"rsc_grp_create","name":"grp","description":"two volumes","select_filter":{"place_count":2,"storage_pool":"thin"}}
{"cmd":"vlm_grp_create","rsc_grp":"grp"}
{"cmd":"spawn","rsc_grp":"grp","rsc_dfn":"web","volume_sizes":[1048576,2097152]}
{"cmd":"report_node","node":"n1","connection":"ONLINE"}
{"cmd":"snapshot_create","rsc_dfn":"web","name":"s1"}
{"cmd":"kvs_modify","name":"kv","props":{"override_props":{"a":"1","b/c":"2"}}}
{"cmd":"node_evict","name":"n1"}
{"cmd":"autoplace","rsc_dfn":"r0","select_filter":{"place_count":3,"replicas_on_different":["Aux/zone"]}}
{"cmd":"rsc_dfn_modify","name":"r0","props":{"override_props":{"DrbdOptions/Net/protocol":"C"},"delete_props":["Aux/x"]}}
"#;

const WORDS: &[&str] = &[
    "\"cmd\":",
    "\"node_create\"",
    "\"spawn\"",
    "\"place_count\":",
    "\"volume_sizes\":[",
    "\"size\":",
    "\"props\":{",
    "\"override_props\":",
    "\"DrbdOptions/Net/protocol\":",
    "\"DrbdOptions/Resource/quorum\":\"majority\"",
    "null",
    "-1",
    "1e3",
    "[]",
    "{}",
    "\"\\u0000\"",
    "\"\\ud800\"",
];

#[test]
fn fuzz_command_json_decoder_for_a_fixed_time() {
    let samples: Vec<Vec<u8>> = COMMANDS.lines().map(|l| l.as_bytes().to_vec()).collect();
    fuzz("core commands", inputs(samples, WORDS), |bytes| {
        let text = lossy(&bytes);
        if let Ok(cmd) = decode_command(&text) {
            // A decoded command encodes to JSON that decodes to the same command.
            let json = serde_json::to_string(&cmd).expect("a command serializes");
            let again = decode_command(&json);
            prop_assert!(
                matches!(&again, Ok(c) if *c == cmd),
                "{cmd:?} encodes as {json}, which decodes as {again:?}"
            );
            // Executing it on an empty cluster answers (a refusal is an answer).
            let mut env = SeededEnv::new(1);
            let mut c = Cluster::new(&mut env);
            let _ = c.execute_json(&text, &mut env);
        }
        Ok(())
    });
}

/// Words a name, size or property value could be.
fn words() -> impl Strategy<Value = String> {
    let samples: Vec<Vec<u8>> = [
        "n1",
        "pvc-0b5e3f5e-8e1c-4c3a-9d5b-3c7d3f1d2e4f",
        "rsc_3",
        "10G",
        "512MiB",
        "1.5TiB",
        "4096K",
        "0.5",
        "18446744073709551615KiB",
        "yes",
        "false",
        "1-10",
        "7000-7999",
        "10%",
        "64MiB",
    ]
    .iter()
    .map(|w| w.as_bytes().to_vec())
    .collect();
    prop_oneof![
        4 => inputs(samples, &["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "%", "-", "."]),
        1 => "\\PC{0,40}".prop_map(|s| linstor_fuzz::mutate::Bytes(s.into_bytes())),
    ]
    .prop_map(|b| lossy(&b))
}

#[test]
fn fuzz_names_sizes_and_values_for_a_fixed_time() {
    fuzz("core names and sizes", words(), |w| {
        if let Ok(s) = SizeKib::parse(&w) {
            // The value, printed in KiB, reads back as itself.
            prop_assert_eq!(SizeKib::parse(&format!("{}K", s.kib())), Ok(s));
        }
        // Zeros at the end of a fraction change nothing (`1.5G` = `1.50000…G`).
        let t = w.trim();
        let num_end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(num_end);
        if num.matches('.').count() == 1 && !num.starts_with('.') && !num.ends_with('.') {
            let longer = format!("{num}{}{unit}", "0".repeat(40));
            prop_assert_eq!(
                SizeKib::parse(&longer).ok(),
                SizeKib::parse(t).ok(),
                "{} and {}",
                t,
                longer
            );
        }
        if let Ok(n) = NodeName::new(&w) {
            prop_assert_eq!(n.as_str(), w.as_str());
        }
        if let Ok(n) = ResourceName::new(&w) {
            prop_assert_eq!(n.as_str(), w.as_str());
        }
        if let Some(n) = ResourceName::from_external(&w) {
            prop_assert!(ResourceName::new(n.as_str()).is_ok(), "{:?}", n);
        }
        let _ = SnapshotName::new(&w);
        let _ = StorPoolName::new(&w);
        let _ = parse_bool(&w);
        // A raw split: the property check (`A <= B`, bounds) is the caller's.
        let _ = parse_number_range(&w);
        for total in [0, 1, 1 << 20, u64::MAX] {
            if let Some(free) = parse_min_free(&w, total) {
                // A percentage of the pool is at most the pool.
                if w.trim().ends_with('%') {
                    prop_assert!(free <= total, "{} of {} is {}", w, total, free);
                }
            }
        }
        Ok(())
    });
}
