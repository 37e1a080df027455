//! Volume modify: the properties of one volume of a deployed resource, and its refusals.

use serde_json::json;

use super::fixture::*;
use crate::cluster::ObjKey;
use crate::name::{NodeName, ResourceName};
use crate::rc::code;

fn vlm_modify(rd: &str, node: &str, nr: u16, props: serde_json::Value) -> serde_json::Value {
    json!({"cmd": "vlm_modify", "rsc_dfn": rd, "node": node, "number": nr, "props": props})
}

#[test]
fn volume_modify_sets_and_deletes_volume_properties() {
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    let set = json!({"override_props": {"Aux/v": "1", "DrbdOptions/Disk/disk-flushes": "no"}});
    let del = json!({"delete_props": ["Aux/v"]});
    check_all(
        &mut c,
        &mut e,
        vec![
            (vlm_modify("r1", "n1", 0, set), Ok(())),
            (
                vlm_modify("r1", "n1", 0, json!({"override_props": {"Bogus": "1"}})),
                Err((code::INVLD_PROP, "Bogus")),
            ),
            (
                vlm_modify("r1", "n1", 0, json!({"delete_props": ["Internal/x"]})),
                Err((code::INVLD_PROP, "reserved")),
            ),
            (
                vlm_modify("r1", "n1", 1, json!({})),
                Err((code::NOT_FOUND_VLM, "Its volumes: 0.")),
            ),
            (
                vlm_modify("r1", "n2", 0, json!({})),
                Err((code::NOT_FOUND_RSC, "not found on node 'n2'")),
            ),
            (
                vlm_modify("ghost", "n1", 0, json!({})),
                Err((code::NOT_FOUND_RSC_DFN, "'ghost'")),
            ),
            (
                vlm_modify("r1", "-bad", 0, json!({})),
                Err((code::INVLD_NODE_NAME, "Invalid node name")),
            ),
        ],
    );
    let props = |c: &crate::cluster::Cluster| {
        let rd = ResourceName::new("r1").unwrap();
        let n1 = NodeName::new("n1").unwrap();
        c.state().resource_definitions[&rd].resources[&n1].volumes[&0]
            .props
            .clone()
    };
    assert_eq!(props(&c).get("Aux/v"), Some("1"));
    assert_eq!(props(&c).get("DrbdOptions/Disk/disk-flushes"), Some("no"));
    let o = must(&mut c, &mut e, cmd(vlm_modify("r1", "n1", 0, del)));
    assert_eq!(props(&c).get("Aux/v"), None);
    // The change is the resource's (its row holds its volumes).
    let key = ObjKey::Rsc {
        rsc_dfn: ResourceName::new("r1").unwrap(),
        node: NodeName::new("n1").unwrap(),
    };
    assert_eq!(o.changes.modified, vec![key], "{o:?}");
    assert_eq!(o.rc.0[0].obj, crate::rc::Obj::Vlm);
}
