//! `lsblk -J -b -o NAME,SIZE,ROTA,TYPE,MODEL,SERIAL,WWN,FSTYPE,MOUNTPOINT`: block devices as a
//! tree (children — partitions, LVs, holders — nested under their parent).
//!
//! util-linux prints `rota` as a JSON boolean since 2.33 and as `"0"`/`"1"` before, and `size`
//! as a number with `-b` (a string in old versions): both are accepted.

use serde::Deserialize;

use crate::error::BackendError;

/// The columns asked for, in `lsblk -o` form.
pub const LSBLK_COLUMNS: &str = "NAME,SIZE,ROTA,TYPE,MODEL,SERIAL,WWN,FSTYPE,MOUNTPOINT";

/// One block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    /// Kernel name (`sdb`, `loop3`).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Spinning disk.
    pub rotational: bool,
    /// `disk`, `part`, `loop`, `lvm`, `rom`, …
    pub kind: String,
    /// Model, serial, WWN where the kernel knows them.
    pub model: Option<String>,
    /// Serial.
    pub serial: Option<String>,
    /// WWN.
    pub wwn: Option<String>,
    /// Filesystem or other signature udev knows of.
    pub fstype: Option<String>,
    /// Where it is mounted.
    pub mountpoint: Option<String>,
    /// Partitions, LVs, holders.
    pub children: usize,
}

#[derive(Deserialize)]
struct Out {
    blockdevices: Vec<Raw>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    N(u64),
    S(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    B(bool),
    S(String),
}

#[derive(Deserialize)]
struct Raw {
    name: String,
    size: Option<Num>,
    rota: Option<Flag>,
    #[serde(rename = "type")]
    kind: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    wwn: Option<String>,
    fstype: Option<String>,
    mountpoint: Option<String>,
    #[serde(default)]
    children: Vec<Raw>,
}

fn text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The top-level devices (children are counted, not listed).
pub fn parse_lsblk(out: &str) -> Result<Vec<BlockDevice>, BackendError> {
    let o: Out = serde_json::from_str(out)
        .map_err(|e| BackendError::parse("lsblk", 0, out, format!("not lsblk's JSON: {e}")))?;
    let mut devs = Vec::with_capacity(o.blockdevices.len());
    for r in o.blockdevices {
        let size = match r.size {
            Some(Num::N(n)) => n,
            Some(Num::S(s)) => s.trim().parse().map_err(|_| {
                BackendError::parse(
                    "lsblk",
                    0,
                    &s,
                    format!("size of {} is not a number", r.name),
                )
            })?,
            None => 0,
        };
        let rotational = match r.rota {
            Some(Flag::B(b)) => b,
            Some(Flag::S(s)) => s.trim() == "1",
            None => false,
        };
        devs.push(BlockDevice {
            name: r.name,
            size,
            rotational,
            kind: r.kind.unwrap_or_default(),
            model: text(r.model),
            serial: text(r.serial),
            wwn: text(r.wwn),
            fstype: text(r.fstype),
            mountpoint: text(r.mountpoint),
            children: r.children.len(),
        });
    }
    Ok(devs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsblk_versions_and_trees() {
        let new = r#"{"blockdevices":[
            {"name":"sdb","size":1000204886016,"rota":true,"type":"disk","model":"ST1000 ","serial":"Z1","wwn":"0x5000","fstype":null,"mountpoint":null},
            {"name":"vda","size":21474836480,"rota":false,"type":"disk","model":null,"serial":null,"wwn":null,"fstype":null,"mountpoint":null,
             "children":[{"name":"vda1","size":21473787904,"rota":false,"type":"part","model":null,"serial":null,"wwn":null,"fstype":"ext4","mountpoint":"/"}]}]}"#;
        let d = parse_lsblk(new).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].model.as_deref(), Some("ST1000"));
        assert!(d[0].rotational);
        assert_eq!(d[1].children, 1);
        let old = r#"{"blockdevices":[{"name":"sdc","size":"1073741824","rota":"0","type":"disk","model":"","serial":"","wwn":"","fstype":null,"mountpoint":null}]}"#;
        let d = parse_lsblk(old).unwrap();
        assert_eq!(
            (d[0].size, d[0].rotational, d[0].model.clone()),
            (1 << 30, false, None)
        );
        for bad in ["", "{}", r#"{"blockdevices":[{"name":"x","size":"big"}]}"#] {
            assert!(parse_lsblk(bad).is_err(), "{bad}");
        }
    }
}
