//! How big a DRBD volume's backing device must be: DRBD's internal metadata (format v09) at
//! the device's end, exactly as `drbdmeta create-md` lays it out.

use crate::model::ResourceDefinition;
use crate::size::SizeKib;

/// DRBD's internal metadata (format v09) on a backing device of `device` KiB, KiB: the bitmap
/// (one bit per 4 KiB of the whole device, rounded up to 64 bits, for each of `peers` slots,
/// the area rounded up to 4 KiB), the activity log (`al_stripes` × `al_stripe_size_kib`,
/// default 1 × 32 KiB) and the 4 KiB superblock — the layout `drbdmeta create-md` writes
/// (checked against the real drbdmeta in `linstor-drbd/tests/real_drbdmeta.rs`).
pub fn drbd_md_size(
    device: SizeKib,
    peers: u8,
    al_stripes: u32,
    al_stripe_size_kib: u32,
) -> SizeKib {
    let bits = device.0.div_ceil(4).next_multiple_of(64);
    let bitmap_bytes = bits / 8 * u64::from(peers.max(1));
    let bitmap = bitmap_bytes.div_ceil(4096) * 4;
    let al = u64::from(al_stripes.max(1)) * u64::from(al_stripe_size_kib.max(32));
    SizeKib(bitmap + al + 4)
}

/// The backing size of a DRBD volume of `rd` with internal metadata: [`drbd_gross_size_with`]
/// for its peer slots and activity log.
pub fn drbd_gross_size(net: SizeKib, rd: &ResourceDefinition) -> SizeKib {
    let d = &rd.drbd;
    drbd_gross_size_with(net, d.peer_slots, d.al_stripes, d.al_stripe_size_kib)
}

/// The smallest backing device that leaves `net` KiB of data beside DRBD's internal metadata
/// ([`drbd_md_size`] grows with the device, so this iterates to the least fixed point; two or
/// three rounds).
pub fn drbd_gross_size_with(net: SizeKib, peers: u8, al_stripes: u32, al_kib: u32) -> SizeKib {
    let md = |device: u64| drbd_md_size(SizeKib(device), peers, al_stripes, al_kib).0;
    let mut device = net.0.saturating_add(md(net.0));
    loop {
        let need = net.0.saturating_add(md(device));
        if need <= device {
            return SizeKib(device);
        }
        device = need;
    }
}
