//! LINSTOR's quick wipe of a new device (and of a thick LV before it is removed).
//!
//! A recycled extent or file may still carry a file-system signature or a DRBD metadata
//! superblock from an earlier volume; DRBD's `create-md` would then ask questions, or an old
//! file system would show up again. So after a create, as LINSTOR does (`WipeHandler`,
//! `MdSuperblockBuffer.wipe`), the device is quick-wiped with these commands, in order:
//!
//! | step | command |
//! |---|---|
//! | signatures | `wipefs -a -f <dev>` |
//! | device size | `blockdev --getsize64 <dev>` |
//! | DRBD superblocks | `dd if=/dev/zero of=<dev> bs=4096 count=1 seek=<block> conv=notrunc oflag=direct`, once per block of [`md_superblock_blocks`] |
//!
//! The DRBD superblock areas zeroed ([`md_superblock_blocks`]):
//!
//! * block 0 (bytes 0 … 4095): where the superblock of external and flexible external
//!   metadata sits;
//! * the last whole 4 KiB block (bytes `(size & !4095) - 4096` … `(size & !4095) - 1`): where
//!   the superblock of internal metadata sits.
//!
//! Every device write goes through the [`crate::CommandRunner`] as an argv, so the scripted
//! tests pin it like every other command.

use crate::error::BackendError;
use crate::exec::Exec;
use crate::parse::util::parse_blockdev_size;

/// The size of a DRBD metadata superblock area, and the `dd` block size used to zero it.
pub const MD_BLOCK_BYTES: u64 = 4096;

/// The 4 KiB block numbers (the `dd seek=` values) of the DRBD superblock areas of a device of
/// `size_bytes` bytes: block 0 and the last whole 4 KiB block, ascending and without
/// duplicates. A device smaller than one block has none.
pub fn md_superblock_blocks(size_bytes: u64) -> Vec<u64> {
    let whole_blocks = size_bytes / MD_BLOCK_BYTES;
    match whole_blocks {
        0 => Vec::new(),
        1 => vec![0],
        n => vec![0, n - 1],
    }
}

/// The argv words (after `dd`) that zero 4 KiB block `block` of `dev`.
pub fn dd_zero_args(dev: &str, block: u64) -> Vec<String> {
    vec![
        "if=/dev/zero".into(),
        format!("of={dev}"),
        format!("bs={MD_BLOCK_BYTES}"),
        "count=1".into(),
        format!("seek={block}"),
        "conv=notrunc".into(),
        "oflag=direct".into(),
    ]
}

/// Runs the quick wipe of `dev` (see the module docs): `wipefs`, `blockdev`, then one `dd` per
/// superblock area. Stops at the first failure and returns it.
pub(crate) async fn quick_wipe(exec: &Exec, dev: &str) -> Result<(), BackendError> {
    exec.run("wipefs", vec!["-a".into(), "-f".into(), dev.to_owned()])
        .await?;
    let out = exec
        .run("blockdev", vec!["--getsize64".into(), dev.to_owned()])
        .await?;
    let size = parse_blockdev_size(&out.stdout)?;
    for block in md_superblock_blocks(size) {
        exec.run("dd", dd_zero_args(dev, block)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(size: u64, want: &[u64]) {
        assert_eq!(md_superblock_blocks(size), want, "size {size}");
    }

    #[test]
    fn superblock_blocks() {
        check(0, &[]);
        check(4095, &[]);
        check(4096, &[0]);
        check(8191, &[0]);
        check(8192, &[0, 1]);
        // 8 MiB: the internal superblock is at 8 MiB - 4 KiB.
        check(8 * 1024 * 1024, &[0, 2047]);
        // Not 4 KiB aligned (a 1 KiB-granular file): the last whole 4 KiB block.
        check(8 * 1024 * 1024 + 1024, &[0, 2047]);
        check(8 * 1024 * 1024 + 4096, &[0, 2048]);
        // The offset drbdmeta reports for internal metadata on a 5 GB disk.
        check(5_242_880_000, &[0, 5_242_875_904 / 4096]);
    }

    #[test]
    fn dd_args() {
        assert_eq!(
            dd_zero_args("/dev/loop7", 2047).join(" "),
            "if=/dev/zero of=/dev/loop7 bs=4096 count=1 seek=2047 conv=notrunc oflag=direct"
        );
    }

    proptest! {
        #[test]
        fn blocks_lie_inside_the_device_and_cover_both_ends(size in 0u64..(1u64 << 50)) {
            let blocks = md_superblock_blocks(size);
            for b in &blocks {
                prop_assert!((b + 1) * MD_BLOCK_BYTES <= size);
            }
            if size >= MD_BLOCK_BYTES {
                prop_assert_eq!(blocks[0], 0);
                let last = *blocks.last().unwrap_or(&0);
                prop_assert_eq!(last * MD_BLOCK_BYTES, (size & !(MD_BLOCK_BYTES - 1)) - MD_BLOCK_BYTES);
            }
            prop_assert!(blocks.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
