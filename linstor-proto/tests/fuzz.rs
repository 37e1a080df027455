//! Time-bounded fuzzing (`linstor-fuzz`; `FUZZ_SECONDS`, `FUZZ_SEED`) of the controller–satellite
//! messages as a peer's frame payload is decoded: real messages (a projection, a report with
//! volumes, requests and answers) encoded, then mutated, and arbitrary bytes. A decoded message
//! encodes to JSON that decodes to the same message.

use linstor_core::NodeName;
use linstor_core::ResourceName;
use linstor_core::cluster::{Cluster, SeededEnv};
use linstor_core::model::{RscObserved, VlmObserved};
use linstor_fuzz::fuzz;
use linstor_fuzz::mutate::inputs;
use linstor_proto::{SatAnswer, SatRequest, SatelliteReport, ToController, ToSatellite};
use proptest::prelude::*;

fn samples() -> Vec<Vec<u8>> {
    let mut e = SeededEnv::new(1);
    let mut c = Cluster::new(&mut e);
    for cmd in [
        r#"{"cmd":"node_create","name":"n1","node_type":"Satellite","net_interfaces":[{"name":"default","address":"127.0.0.1"}]}"#,
        r#"{"cmd":"node_create","name":"n2","node_type":"Satellite","net_interfaces":[{"name":"default","address":"127.0.0.2"}]}"#,
        r#"{"cmd":"stor_pool_create","node":"n1","name":"thin","kind":"FILE_THIN","props":{"StorDriver/StorPoolName":"/p"}}"#,
        r#"{"cmd":"stor_pool_create","node":"n2","name":"thin","kind":"FILE_THIN","props":{"StorDriver/StorPoolName":"/p"}}"#,
        r#"{"cmd":"rsc_dfn_create","name":"r0"}"#,
        r#"{"cmd":"vlm_dfn_create","rsc_dfn":"r0","size":8192}"#,
        r#"{"cmd":"vlm_dfn_create","rsc_dfn":"r0","size":16384}"#,
        r#"{"cmd":"rsc_create","rsc_dfn":"r0","node":"n1","storage_pool":"thin"}"#,
        r#"{"cmd":"rsc_create","rsc_dfn":"r0","node":"n2","storage_pool":"thin"}"#,
    ] {
        assert!(!c.execute_json(cmd, &mut e).is_error(), "{cmd}");
    }
    let p = c.state().for_node(&NodeName::new("n1").unwrap()).unwrap();
    let mut r = SatelliteReport {
        generation: 3,
        converged: true,
        ..SatelliteReport::default()
    };
    let mut o = RscObserved::default();
    for v in 0..2 {
        o.volumes.insert(
            v,
            VlmObserved {
                disk_state: "UpToDate".into(),
                ..VlmObserved::default()
            },
        );
    }
    r.resources.insert(ResourceName::new("r0").unwrap(), o);
    let down = [
        ToSatellite::Sync {
            generation: 3,
            projection: Box::new(p),
        },
        ToSatellite::Request {
            id: 1,
            request: SatRequest::ListDevices,
        },
        ToSatellite::Heartbeat,
    ];
    let up = [
        ToController::Report(Box::new(r)),
        ToController::Answer {
            id: 1,
            answer: SatAnswer::Failed {
                message: "no".into(),
                command: vec!["lsblk".into()],
                stderr: "x".into(),
            },
        },
    ];
    let mut out: Vec<Vec<u8>> = down
        .iter()
        .map(|m| serde_json::to_vec(m).unwrap())
        .collect();
    out.extend(up.iter().map(|m| serde_json::to_vec(m).unwrap()));
    out
}

const WORDS: &[&str] = &[
    "{\"sync\":",
    "{\"report\":",
    "\"generation\":",
    "\"volumes\":{\"0\":",
    "\"4294967296\":",
    "\"-1\":",
    "\"resources\":{",
    "null",
    "[]",
    "{}",
    "\"\\ud800\"",
    "1e400",
];

/// `T` decoded from `bytes` encodes to JSON that decodes to the same `T`.
fn round_trips<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(m) = serde_json::from_slice::<T>(bytes) {
        let json = serde_json::to_string(&m).expect("a message serializes");
        let again = serde_json::from_str::<T>(&json);
        prop_assert!(
            matches!(&again, Ok(a) if *a == m),
            "{m:?} encodes as {json}, which decodes as {again:?}"
        );
    }
    Ok(())
}

#[test]
fn fuzz_satellite_messages_for_a_fixed_time() {
    fuzz("proto messages", inputs(samples(), WORDS), |bytes| {
        round_trips::<ToSatellite>(&bytes)?;
        round_trips::<ToController>(&bytes)?;
        Ok(())
    });
}
