//! The DRBD validator plugged into the core's property validation.

use linstor_core::props::{Level, validate_user_prop};
use linstor_drbd::DrbdOptionsValidator;

#[test]
fn core_property_writes_are_checked_against_the_whitelist() {
    let v = DrbdOptionsValidator::builtin();
    let check = |level, key: &str, value: &str| validate_user_prop(level, key, value, Some(&v));
    assert!(check(Level::RscDfn, "DrbdOptions/Net/protocol", "C").is_ok());
    assert!(
        check(
            Level::Controller,
            "DrbdOptions/PeerDevice/resync-rate",
            "100M"
        )
        .is_ok()
    );
    assert!(
        check(
            Level::RscGrp,
            "DrbdOptions/Handlers/split-brain",
            "/usr/lib/drbd/notify-split-brain.sh root"
        )
        .is_ok()
    );
    let bad = check(Level::RscDfn, "DrbdOptions/Net/protocol", "D").expect_err("bad enum");
    assert!(bad.to_string().contains("A, B, C"), "{bad}");
    let bad = check(Level::Rsc, "DrbdOptions/Disk/al-extents", "10").expect_err("out of range");
    assert!(bad.to_string().contains("67 to 65534"), "{bad}");
    let bad = check(Level::Rsc, "DrbdOptions/Disk/no-such-option", "1").expect_err("unknown");
    assert!(
        bad.to_string().contains("al-extents"),
        "the error lists the known options: {bad}"
    );
    // Keys outside the five sections are the core's business.
    assert!(
        check(
            Level::Controller,
            "DrbdOptions/auto-add-quorum-tiebreaker",
            "True"
        )
        .is_ok()
    );
}
