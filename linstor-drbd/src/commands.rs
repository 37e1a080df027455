//! The drbdadm / drbdsetup / drbdmeta command sequences, run through the backends' runner.
//!
//! [`Drbd`] holds a [`CommandRunner`] plus how to call drbdadm (an optional `-c <config>`, an
//! optional dry run `-d`, extra environment). Each operation first builds its argv with a pure
//! `*_cmds` function (pinned by snapshot tests) and then runs the commands in order, stopping at
//! the first failure. Names only ever travel as argv words.
//!
//! Day-0 generation ids ([`InitialGi`]): after `create-md`, the initial-sync winner writes a new
//! current GI with the day-0 GI as bitmap base into every node-id slot; a thin-backed loser writes
//! the day-0 GI as its current GI (so no sync is needed); a thick loser writes nothing and gets a
//! full sync from the winner (reference §6.4).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use linstor_backends::{BackendError, Cmd, CmdOutput, CommandRunner};

use crate::error::{DrbdError, Result};
use crate::files::{ConfigChecker, Installed, ResFileStore};

/// The long-running command whose output [`crate::events2::parse_line`] reads (the satellite
/// runs it as a daemon and restarts it, calling [`crate::state::Tracker::restart`], when it ends).
pub const EVENTS2_ARGV: &[&str] = &[
    "drbdsetup",
    "events2",
    "--timestamps",
    "--statistics",
    "all",
];

/// Number of node-id slots DRBD 9 metadata has (node ids 0..=31).
pub const NODE_ID_SLOTS: u8 = 32;

/// How often `secondary` is tried after mkfs (udev/blkid may still hold the device open).
pub const SECONDARY_ATTEMPTS: u32 = 5;

/// Timeout for `create-md` (it writes the bitmap; large devices take a while).
pub const CREATE_MD_TIMEOUT: Duration = Duration::from_secs(600);

/// A DRBD generation id (UUID), shown as 16 upper-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gi(pub u64);

impl Gi {
    /// Parses 1 to 16 hex digits (`DrbdCurrentGi` holds 16).
    pub fn parse(s: &str) -> Option<Gi> {
        if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(Gi)
    }
}

impl fmt::Display for Gi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016X}", self.0)
    }
}

/// What a freshly created volume does about its generation ids (reference §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialGi {
    /// The initial-sync winner: current = `new_current`, bitmap base = day-0 in every slot,
    /// consistent and up to date.
    Winner {
        /// A fresh random GI (the caller supplies entropy).
        new_current: Gi,
    },
    /// A thin-backed (or all-ZFS) loser: current = day-0, consistent and up to date, no sync.
    ThinLoser,
    /// A thick loser: no `set-gi`; DRBD fully syncs it from the winner.
    ThickLoser,
}

impl InitialGi {
    /// Picks the rule: the winner (while the volume definition is not yet initialized) gets
    /// `Winner`; other nodes are thin losers when thin-backed unless a full initial sync is
    /// forced (`DrbdOptions/ForceInitialSync`), else thick losers.
    pub fn choose(
        is_winner: bool,
        initialized: bool,
        thin_backed: bool,
        force_initial_sync: bool,
        new_current: Gi,
    ) -> InitialGi {
        if is_winner && !initialized {
            InitialGi::Winner { new_current }
        } else if thin_backed && !force_initial_sync {
            InitialGi::ThinLoser
        } else {
            InitialGi::ThickLoser
        }
    }

    /// The `set-gi` strings per node-id slot (`current:bitmap:history1:history2[:consistent:
    /// was-up-to-date]`), empty for a thick loser. The own slot comes last and is the only one
    /// that writes the rule's current GI and the flags; the other slots keep the current GI at
    /// "just created", so an attempt interrupted midway leaves metadata that
    /// [`Drbd::ensure_metadata`] still recognizes and completes. drbdmeta keeps fields that are
    /// not given.
    ///
    /// With `fresh` (the metadata was created just now), slots whose string would write what
    /// `create-md` already wrote (bitmap UUID 0, no history, current "just created") are left
    /// out: a thin loser then needs one call instead of 32 (`real_drbdmeta` compares both
    /// results byte for byte with `dump-md`).
    pub fn gi_strings(self, own_node_id: u8, day0: Gi, fresh: bool) -> Vec<(u8, String)> {
        let (current, bitmap) = match self {
            InitialGi::Winner { new_current } => (new_current, day0),
            InitialGi::ThinLoser => (day0, Gi(0)),
            InitialGi::ThickLoser => return Vec::new(),
        };
        let zero = Gi(0);
        let others = (0..NODE_ID_SLOTS)
            .filter(|id| *id != own_node_id)
            .filter(|_| !(fresh && bitmap == zero))
            .map(|id| (id, format!("{GI_JUST_CREATED}:{bitmap}:{zero}:{zero}")));
        let own = (own_node_id, format!("{current}:{bitmap}:{zero}:{zero}:1:1"));
        others.chain(std::iter::once(own)).collect()
    }
}

/// drbdmeta's `MDF_CONSISTENT | MDF_WAS_UP_TO_DATE`: what a `set-gi` string ending in `:1:1`
/// sets in the metadata flags.
const MDF_CONSISTENT_UP_TO_DATE: u32 = 0x11;

impl InitialGi {
    /// The `dump-md` text of metadata `create-md` has just written, rewritten to what the
    /// rule's `set-gi` calls for every slot would leave (the rule's current GI, the bitmap UUID
    /// in all 32 slots, consistent and was-up-to-date): one `restore-md` of it replaces 32
    /// `set-gi` runs, byte for byte the same on the device (`real_drbdmeta` compares the whole
    /// device). `None` for a thick loser, which writes nothing.
    pub fn rewrite_fresh_dump(self, day0: Gi, dump: &str) -> Result<Option<String>> {
        let (current, bitmap) = match self {
            InitialGi::Winner { new_current } => (new_current, day0),
            InitialGi::ThinLoser => (day0, Gi(0)),
            InitialGi::ThickLoser => return Ok(None),
        };
        let perr = |line: &str, reason: &str| DrbdError::Parse {
            line: line.to_owned(),
            reason: reason.to_owned(),
        };
        // Peer slots are counted in a usize: a dump with 256 + 32 slots must not wrap to 32.
        let (mut in_peer, mut peers, mut seen_current, mut seen_flags) =
            (false, 0usize, false, false);
        let mut out = String::with_capacity(dump.len());
        for line in dump.lines() {
            let t = line.trim();
            let new = if t.starts_with("peer[") && t.ends_with('{') {
                in_peer = true;
                peers += 1;
                line.to_owned()
            } else if in_peer && t == "}" {
                in_peer = false;
                line.to_owned()
            } else if in_peer && t.starts_with("bitmap-uuid ") {
                line.replace(t, &format!("bitmap-uuid 0x{bitmap};"))
            } else if !in_peer && t.starts_with("current-uuid ") {
                seen_current = true;
                format!("current-uuid 0x{current};")
            } else if !in_peer && t.starts_with("flags ") {
                seen_flags = true;
                let hex = t
                    .strip_prefix("flags 0x")
                    .and_then(|h| h.strip_suffix(';'))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .ok_or_else(|| perr(line, "expected flags 0x<hex>;"))?;
                format!("flags 0x{:08X};", hex | MDF_CONSISTENT_UP_TO_DATE)
            } else {
                line.to_owned()
            };
            out.push_str(&new);
            out.push('\n');
        }
        if !seen_current || !seen_flags || peers != usize::from(NODE_ID_SLOTS) {
            return Err(perr(
                dump.lines().next().unwrap_or_default(),
                "dump-md without current-uuid, flags and 32 peer slots",
            ));
        }
        Ok(Some(out))
    }
}

/// One `drbdmeta … get-gi` line: UUIDs and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiRecord {
    /// Current UUID.
    pub current: Gi,
    /// Bitmap UUID of the slot asked for.
    pub bitmap: Gi,
    /// The two history UUIDs.
    pub history: [Gi; 2],
    /// Flag columns in drbdmeta's order (consistent, was-up-to-date, primary, crashed-primary,
    /// al-clean, al-disabled, then peer flags).
    pub flags: Vec<bool>,
}

impl GiRecord {
    /// Whether the consistent flag is set.
    pub fn consistent(&self) -> bool {
        self.flags.first().copied().unwrap_or(false)
    }

    /// Whether the was-up-to-date flag is set.
    pub fn up_to_date(&self) -> bool {
        self.flags.get(1).copied().unwrap_or(false)
    }

    /// Parses the last `get-gi` line of `stdout`.
    pub fn parse(stdout: &str) -> Result<GiRecord> {
        let line = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let perr = |reason: &str| DrbdError::Parse {
            line: line.to_owned(),
            reason: reason.to_owned(),
        };
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 {
            return Err(perr("expected current:bitmap:history1:history2:flags…"));
        }
        let gi = |s: &str| Gi::parse(s).ok_or_else(|| perr("not a hex generation id"));
        let flags = fields[4..]
            .iter()
            .map(|f| match *f {
                "0" => Ok(false),
                "1" => Ok(true),
                _ => Err(perr("flag is not 0 or 1")),
            })
            .collect::<Result<Vec<bool>>>()?;
        Ok(GiRecord {
            current: gi(fields[0])?,
            bitmap: gi(fields[1])?,
            history: [gi(fields[2])?, gi(fields[3])?],
            flags,
        })
    }
}

/// Where a volume's metadata is, as drbdmeta wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaDev {
    /// DRBD minor.
    pub minor: u32,
    /// The metadata device (the backing device for internal metadata).
    pub device: PathBuf,
    /// Internal (`internal`) or external (`flex-external`) metadata.
    pub internal: bool,
}

impl MetaDev {
    /// drbdmeta's `<minor> v09 <dev> internal|flex-external`; the minor is `-` without a
    /// kernel module (drbdmeta then does not ask drbdsetup whether the minor is attached).
    fn args(&self, kernel: bool) -> Vec<String> {
        vec![
            if kernel {
                self.minor.to_string()
            } else {
                "-".to_owned()
            },
            "v09".to_owned(),
            self.device.display().to_string(),
            if self.internal {
                "internal"
            } else {
                "flex-external"
            }
            .to_owned(),
        ]
    }
}

/// What [`Drbd::ensure_metadata`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataAction {
    /// There was no valid metadata: it was created and the day-0 GIs written.
    Created,
    /// Metadata existed but still had the "just created" current GI (an earlier attempt stopped
    /// between `create-md` and `set-gi`): the day-0 GIs were written now.
    Resumed,
    /// Initialized metadata was already there and left untouched (its data is live).
    AlreadyPresent,
}

/// The current GI of metadata that `create-md` has just written (DRBD's `UUID_JUST_CREATED`).
pub const GI_JUST_CREATED: Gi = Gi(4);

/// A local volume whose DRBD metadata [`Drbd::ensure_metadata`] sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInit {
    /// Volume number.
    pub vol: u16,
    /// Where its metadata lives.
    pub meta: MetaDev,
    /// `--max-peers` (the resource definition's peer slots).
    pub max_peers: u8,
    /// Day-0 rule for this node.
    pub rule: InitialGi,
    /// This node's DRBD node id.
    pub own_node_id: u8,
    /// The volume definition's day-0 GI (`DrbdCurrentGi`).
    pub day0: Gi,
    /// The device UUID written when metadata is created
    /// [`without_kernel`](Drbd::without_kernel) (drbdadm `create-md` makes a random one
    /// itself); the caller supplies the entropy.
    pub device_uuid: Gi,
}

/// Flags of `drbdadm adjust`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdjustOpts {
    /// `--skip-disk` (`DrbdOptions/SkipDisk`, or connect only).
    pub skip_disk: bool,
    /// `--skip-net` (attach only).
    pub skip_net: bool,
    /// `--discard-my-data` (resolve a split brain on this node).
    pub discard_my_data: bool,
}

/// The DRBD tools, driven through a command runner.
#[derive(Debug, Clone)]
pub struct Drbd {
    runner: Arc<dyn CommandRunner>,
    config: Option<PathBuf>,
    dry_run: bool,
    env: Vec<(String, String)>,
    retry_delay: Duration,
    kernel: bool,
    scratch: Option<PathBuf>,
}

impl Drbd {
    /// Tools run through `runner`, drbdadm with its default configuration.
    pub fn new(runner: Arc<dyn CommandRunner>) -> Self {
        Drbd {
            runner,
            config: None,
            dry_run: false,
            env: Vec::new(),
            retry_delay: Duration::from_secs(1),
            kernel: true,
            scratch: None,
        }
    }

    /// drbdadm reads `config` (`-c <config>`) instead of `/etc/drbd.conf`.
    pub fn with_config(mut self, config: impl Into<PathBuf>) -> Self {
        self.config = Some(config.into());
        self
    }

    /// drbdadm only prints what it would do (`-d`); drbdsetup/drbdmeta calls are unaffected.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The host has no DRBD kernel module (the satellite's simulated mode). drbdmeta is then
    /// given `-` for the minor, so it does not run `drbdsetup <minor> dstate` (which execs
    /// `modprobe drbd`) before every call to learn that nothing is attached; and
    /// [`ensure_metadata`](Self::ensure_metadata) creates metadata with drbdmeta directly
    /// instead of through drbdadm, which would run the same drbdmeta `create-md` after the same
    /// kernel checks (`real_drbdmeta` compares both results with `dump-md`). Metadata bytes
    /// are the same either way; only the kernel queries are skipped.
    pub fn without_kernel(mut self) -> Self {
        self.kernel = false;
        self
    }

    /// [`without_kernel`](Self::without_kernel), and drbdadm is told the version of the module
    /// a simulation stands in for (`DRBD_DRIVER_VERSION_OVERRIDE`, drbd-utils' own switch), so
    /// it does not run `modinfo` twice per call to find that there is none.
    pub fn simulating_kernel(self, version: crate::version::DrbdVersion) -> Self {
        self.without_kernel()
            .with_env("DRBD_DRIVER_VERSION_OVERRIDE", version.to_string())
    }

    /// Directory for files the tools read (the dump `restore-md` reads); the system's temp
    /// dir by default.
    pub fn with_scratch_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scratch = Some(dir.into());
        self
    }

    /// Pause between attempts of a retried command (default 1 s).
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Adds an environment variable to every command (tests use drbd-utils' `__DRBD_NODE__`).
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn cmd(&self, program: &str) -> Cmd {
        self.env
            .iter()
            .fold(Cmd::new(program), |c, (k, v)| c.env(k, v))
    }

    /// `drbdadm [-c <config>] [-d]`.
    fn drbdadm(&self) -> Cmd {
        let mut c = self.cmd("drbdadm");
        if let Some(conf) = &self.config {
            c = c.arg("-c").arg(conf);
        }
        if self.dry_run {
            c = c.arg("-d");
        }
        c
    }

    async fn run(&self, cmd: &Cmd) -> Result<CmdOutput> {
        Ok(self.runner.run(cmd).await?)
    }

    async fn run_all(&self, cmds: &[Cmd]) -> Result<Vec<CmdOutput>> {
        let mut out = Vec::with_capacity(cmds.len());
        for c in cmds {
            out.push(self.run(c).await?);
        }
        Ok(out)
    }

    /// `drbdadm --config-to-test <candidate> --config-to-exclude <current> sh-nop`.
    pub fn check_config_cmd(&self, candidate: &Path, current: &Path) -> Cmd {
        self.drbdadm()
            .arg("--config-to-test")
            .arg(candidate)
            .arg("--config-to-exclude")
            .arg(current)
            .arg("sh-nop")
            .any_exit_code()
    }

    /// `drbdadm -vvv --max-peers <n> [--bitmap-block-size <b>] -- --force create-md <rsc>/<vol>`.
    pub fn create_md_cmd(
        &self,
        rsc: &str,
        vol: u16,
        max_peers: u8,
        bitmap_block_size: Option<u32>,
    ) -> Cmd {
        let mut c = self
            .drbdadm()
            .arg("-vvv")
            .arg("--max-peers")
            .arg(max_peers.to_string());
        if let Some(b) = bitmap_block_size {
            c = c.arg("--bitmap-block-size").arg(b.to_string());
        }
        c.args(["--", "--force", "create-md"])
            .arg(format!("{rsc}/{vol}"))
            .timeout(CREATE_MD_TIMEOUT)
    }

    /// Creates DRBD metadata for one volume (the resource must be in drbdadm's configuration).
    pub async fn create_md(
        &self,
        rsc: &str,
        vol: u16,
        max_peers: u8,
        bitmap_block_size: Option<u32>,
    ) -> Result<()> {
        if !(1..=31).contains(&max_peers) {
            return Err(DrbdError::InvalidConfig {
                resource: rsc.to_owned(),
                reason: format!("max-peers {max_peers} is outside 1..=31"),
            });
        }
        self.run(&self.create_md_cmd(rsc, vol, max_peers, bitmap_block_size))
            .await
            .map(drop)
    }

    /// `drbdmeta --force <minor> v09 <dev> internal create-md <max-peers>`: metadata without a
    /// configuration file (clones, tools, tests).
    pub fn drbdmeta_create_md_cmd(&self, meta: &MetaDev, max_peers: u8) -> Cmd {
        self.cmd("drbdmeta")
            .arg("--force")
            .args(meta.args(self.kernel))
            .arg("create-md")
            .arg(max_peers.to_string())
            .timeout(CREATE_MD_TIMEOUT)
    }

    /// Runs [`drbdmeta_create_md_cmd`](Self::drbdmeta_create_md_cmd).
    pub async fn drbdmeta_create_md(&self, meta: &MetaDev, max_peers: u8) -> Result<()> {
        if !(1..=31).contains(&max_peers) {
            return Err(DrbdError::InvalidConfig {
                resource: meta.device.display().to_string(),
                reason: format!("max-peers {max_peers} is outside 1..=31"),
            });
        }
        self.run(&self.drbdmeta_create_md_cmd(meta, max_peers))
            .await
            .map(drop)
    }

    /// `drbdmeta --force <minor> v09 <dev> internal dump-md`.
    pub fn dump_md_cmd(&self, meta: &MetaDev) -> Cmd {
        self.cmd("drbdmeta")
            .arg("--force")
            .args(meta.args(self.kernel))
            .arg("dump-md")
    }

    /// `drbdmeta --force <minor> v09 <dev> internal restore-md <file>` (drbdmeta cannot read
    /// the dump from a pipe: it stops before the bitmap sections).
    pub fn restore_md_cmd(&self, meta: &MetaDev, file: &Path) -> Cmd {
        self.cmd("drbdmeta")
            .arg("--force")
            .args(meta.args(self.kernel))
            .arg("restore-md")
            .arg(file)
    }

    /// Where [`set_initial_gi_fresh`](Self::set_initial_gi_fresh) puts the dump it restores:
    /// one file per device in the scratch directory (the system's temp dir unless
    /// [`with_scratch_dir`](Self::with_scratch_dir)).
    pub fn restore_md_file(&self, meta: &MetaDev) -> PathBuf {
        let name: String = meta
            .device
            .display()
            .to_string()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.scratch
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("restore-md{name}.txt"))
    }

    /// The day-0 generation ids on metadata `create-md` has just written, in as few drbdmeta
    /// runs as give the same bytes: nothing for a thick loser, the own slot's `set-gi` for a
    /// thin loser (the other slots already hold what it would write), and `dump-md` +
    /// `restore-md` of [`InitialGi::rewrite_fresh_dump`] for a winner (instead of 32 `set-gi`).
    pub async fn set_initial_gi_fresh(
        &self,
        meta: &MetaDev,
        rule: InitialGi,
        own_node_id: u8,
        day0: Gi,
    ) -> Result<()> {
        if !matches!(rule, InitialGi::Winner { .. }) {
            return self
                .set_initial_gi(meta, rule, own_node_id, day0, true)
                .await;
        }
        let dump = self.run(&self.dump_md_cmd(meta)).await?;
        let Some(text) = rule.rewrite_fresh_dump(day0, &dump.stdout)? else {
            return Ok(());
        };
        let file = self.restore_md_file(meta);
        std::fs::write(&file, text).map_err(|source| DrbdError::Io {
            action: "write",
            path: file.clone(),
            source,
        })?;
        let result = self.run(&self.restore_md_cmd(meta, &file)).await;
        if let Err(e) = std::fs::remove_file(&file) {
            tracing::warn!(file = %file.display(), error = %e, "cannot remove the restored dump");
        }
        result.map(drop)
    }

    /// `drbdmeta <minor> v09 <dev> internal write-dev-uuid <uuid>`: what drbdadm `create-md`
    /// runs after drbdmeta's `create-md` (with a random UUID).
    pub fn write_dev_uuid_cmd(&self, meta: &MetaDev, uuid: Gi) -> Cmd {
        self.cmd("drbdmeta")
            .args(meta.args(self.kernel))
            .arg("write-dev-uuid")
            .arg(uuid.to_string())
    }

    /// Runs [`write_dev_uuid_cmd`](Self::write_dev_uuid_cmd).
    pub async fn write_dev_uuid(&self, meta: &MetaDev, uuid: Gi) -> Result<()> {
        self.run(&self.write_dev_uuid_cmd(meta, uuid))
            .await
            .map(drop)
    }

    /// The `drbdmeta --force --node-id <id> <minor> v09 <dev> internal set-gi <gi>` calls for a
    /// day-0 rule (none for a thick loser); `fresh` as in [`InitialGi::gi_strings`].
    pub fn set_gi_cmds(
        &self,
        meta: &MetaDev,
        rule: InitialGi,
        own_node_id: u8,
        day0: Gi,
        fresh: bool,
    ) -> Vec<Cmd> {
        rule.gi_strings(own_node_id, day0, fresh)
            .into_iter()
            .map(|(id, gi)| {
                self.cmd("drbdmeta")
                    .arg("--force")
                    .arg("--node-id")
                    .arg(id.to_string())
                    .args(meta.args(self.kernel))
                    .arg("set-gi")
                    .arg(gi)
            })
            .collect()
    }

    /// Writes the day-0 generation ids of one volume; `fresh` as in [`InitialGi::gi_strings`].
    pub async fn set_initial_gi(
        &self,
        meta: &MetaDev,
        rule: InitialGi,
        own_node_id: u8,
        day0: Gi,
        fresh: bool,
    ) -> Result<()> {
        self.run_all(&self.set_gi_cmds(meta, rule, own_node_id, day0, fresh))
            .await
            .map(drop)
    }

    /// `drbdmeta <minor> v09 <dev> internal get-gi --node-id <id> --force`.
    pub fn get_gi_cmd(&self, meta: &MetaDev, node_id: u8) -> Cmd {
        self.cmd("drbdmeta")
            .args(meta.args(self.kernel))
            .arg("get-gi")
            .arg("--node-id")
            .arg(node_id.to_string())
            .arg("--force")
            .any_exit_code()
    }

    /// Reads the generation ids of one slot; `None` when there is no valid metadata (exit 1
    /// or 255).
    pub async fn get_gi(&self, meta: &MetaDev, node_id: u8) -> Result<Option<GiRecord>> {
        let cmd = self.get_gi_cmd(meta, node_id);
        let out = self.run(&cmd).await?;
        match out.status {
            0 => GiRecord::parse(&out.stdout).map(Some),
            1 | 255 => Ok(None),
            code => Err(BackendError::CommandFailed {
                argv: cmd.argv(),
                exit: linstor_backends::ExitKind::Code(code),
                stdout: out.stdout,
                stderr: out.stderr,
            }
            .into()),
        }
    }

    /// Idempotent, resumable metadata set-up of a new volume:
    /// * no valid metadata (`get-gi` exit 1/255): `create-md` (through drbdadm, or
    ///   [`without_kernel`](Self::without_kernel) drbdmeta's `create-md` and `write-dev-uuid`,
    ///   which is what drbdadm runs), then the day-0 generation ids of the rule in the fewest
    ///   runs ([`set_initial_gi_fresh`](Self::set_initial_gi_fresh)) →
    ///   [`MetadataAction::Created`];
    /// * metadata whose current GI is still "just created" while the rule writes GIs: every
    ///   slot's GIs → [`MetadataAction::Resumed`];
    /// * anything else is live metadata and is never touched (re-creating it would throw away
    ///   the generation ids of real data) → [`MetadataAction::AlreadyPresent`].
    pub async fn ensure_metadata(&self, rsc: &str, v: &VolumeInit) -> Result<MetadataAction> {
        let action = match self.get_gi(&v.meta, v.own_node_id).await? {
            None if self.kernel => {
                self.create_md(rsc, v.vol, v.max_peers, None).await?;
                MetadataAction::Created
            }
            None => {
                self.drbdmeta_create_md(&v.meta, v.max_peers).await?;
                self.write_dev_uuid(&v.meta, v.device_uuid).await?;
                MetadataAction::Created
            }
            Some(gi) if gi.current == GI_JUST_CREATED && v.rule != InitialGi::ThickLoser => {
                MetadataAction::Resumed
            }
            Some(_) => return Ok(MetadataAction::AlreadyPresent),
        };
        if action == MetadataAction::Created {
            self.set_initial_gi_fresh(&v.meta, v.rule, v.own_node_id, v.day0)
                .await?;
        } else {
            self.set_initial_gi(&v.meta, v.rule, v.own_node_id, v.day0, false)
                .await?;
        }
        Ok(action)
    }

    /// `drbdadm -vvv adjust [--discard-my-data] [--skip-net] [--skip-disk] <rsc>`.
    pub fn adjust_cmd(&self, rsc: &str, opts: AdjustOpts) -> Cmd {
        let mut c = self.drbdadm().arg("-vvv").arg("adjust");
        if opts.discard_my_data {
            c = c.arg("--discard-my-data");
        }
        if opts.skip_net {
            c = c.arg("--skip-net");
        }
        if opts.skip_disk {
            c = c.arg("--skip-disk");
        }
        c.arg(rsc)
    }

    /// Brings the kernel state in line with the `.res` file.
    pub async fn adjust(&self, rsc: &str, opts: AdjustOpts) -> Result<()> {
        self.run(&self.adjust_cmd(rsc, opts)).await.map(drop)
    }

    /// `drbdsetup down <rsc>`.
    pub fn down_cmd(&self, rsc: &str) -> Cmd {
        self.cmd("drbdsetup").arg("down").arg(rsc)
    }

    /// Takes the resource down (before its `.res` file is deleted).
    pub async fn down(&self, rsc: &str) -> Result<()> {
        self.run(&self.down_cmd(rsc)).await.map(drop)
    }

    /// `drbdsetup wait-connect-resource --wait-after-sb=yes --wfc-timeout=<s> <rsc>`, then
    /// `drbdadm -vvv [-- --assume-clean] resize <rsc>/<vol>` (`--assume-clean` when thin-backed:
    /// the new space reads as zeros everywhere, no sync needed).
    pub fn resize_cmds(
        &self,
        rsc: &str,
        vol: u16,
        thin_backed: bool,
        wfc_timeout: Duration,
    ) -> Vec<Cmd> {
        let wait = self
            .cmd("drbdsetup")
            .arg("wait-connect-resource")
            .arg("--wait-after-sb=yes")
            .arg(format!("--wfc-timeout={}", wfc_timeout.as_secs()))
            .arg(rsc)
            .timeout(wfc_timeout + Duration::from_secs(10));
        let mut resize = self.drbdadm().arg("-vvv");
        if thin_backed {
            resize = resize.args(["--", "--assume-clean"]);
        }
        vec![wait, resize.arg("resize").arg(format!("{rsc}/{vol}"))]
    }

    /// Grows a volume after its backing device grew.
    pub async fn resize(
        &self,
        rsc: &str,
        vol: u16,
        thin_backed: bool,
        wfc_timeout: Duration,
    ) -> Result<()> {
        self.run_all(&self.resize_cmds(rsc, vol, thin_backed, wfc_timeout))
            .await
            .map(drop)
    }

    /// `drbdsetup del-peer <rsc> <id>`, then `drbdsetup forget-peer <rsc> <id>` (frees the
    /// bitmap slot).
    pub fn remove_peer_cmds(&self, rsc: &str, peer_node_id: u8) -> Vec<Cmd> {
        ["del-peer", "forget-peer"]
            .into_iter()
            .map(|verb| {
                self.cmd("drbdsetup")
                    .arg(verb)
                    .arg(rsc)
                    .arg(peer_node_id.to_string())
            })
            .collect()
    }

    /// Disconnects a removed peer and frees its bitmap slot.
    pub async fn remove_peer(&self, rsc: &str, peer_node_id: u8) -> Result<()> {
        self.run_all(&self.remove_peer_cmds(rsc, peer_node_id))
            .await
            .map(drop)
    }

    /// `drbdsetup detach <minor> [--diskless]` (`--diskless`: the volume becomes intentionally
    /// diskless, e.g. when toggling a resource to diskless).
    pub fn detach_cmd(&self, minor: u32, diskless: bool) -> Cmd {
        let c = self.cmd("drbdsetup").arg("detach").arg(minor.to_string());
        if diskless { c.arg("--diskless") } else { c }
    }

    /// Detaches a volume's backing disk.
    pub async fn detach(&self, minor: u32, diskless: bool) -> Result<()> {
        self.run(&self.detach_cmd(minor, diskless)).await.map(drop)
    }

    /// `drbdadm -vvv disconnect <rsc>`.
    pub fn disconnect_cmd(&self, rsc: &str) -> Cmd {
        self.drbdadm().arg("-vvv").arg("disconnect").arg(rsc)
    }

    /// Disconnects from every peer (reconnect with `adjust --skip-disk`).
    pub async fn disconnect(&self, rsc: &str) -> Result<()> {
        self.run(&self.disconnect_cmd(rsc)).await.map(drop)
    }

    /// `drbdadm suspend-io <rsc>`.
    pub fn suspend_io_cmd(&self, rsc: &str) -> Cmd {
        self.drbdadm().arg("suspend-io").arg(rsc)
    }

    /// `drbdadm resume-io <rsc>`.
    pub fn resume_io_cmd(&self, rsc: &str) -> Cmd {
        self.drbdadm().arg("resume-io").arg(rsc)
    }

    /// Suspends I/O (before a snapshot).
    pub async fn suspend_io(&self, rsc: &str) -> Result<()> {
        self.run(&self.suspend_io_cmd(rsc)).await.map(drop)
    }

    /// Resumes I/O (after a snapshot).
    pub async fn resume_io(&self, rsc: &str) -> Result<()> {
        self.run(&self.resume_io_cmd(rsc)).await.map(drop)
    }

    /// `drbdadm -vvv primary --force <rsc>`.
    pub fn primary_force_cmd(&self, rsc: &str) -> Cmd {
        self.drbdadm()
            .arg("-vvv")
            .arg("primary")
            .arg("--force")
            .arg(rsc)
    }

    /// `drbdadm secondary <rsc>`.
    pub fn secondary_cmd(&self, rsc: &str) -> Cmd {
        self.drbdadm().arg("secondary").arg(rsc)
    }

    /// `drbdadm secondary`, tried up to [`SECONDARY_ATTEMPTS`] times while it fails (the
    /// device may still be held open briefly, e.g. by udev after mkfs).
    pub async fn secondary(&self, rsc: &str) -> Result<()> {
        let cmd = self.secondary_cmd(rsc);
        let mut attempt = 1;
        loop {
            match self.run(&cmd).await {
                Ok(_) => return Ok(()),
                Err(DrbdError::Command(BackendError::CommandFailed { .. }))
                    if attempt < SECONDARY_ATTEMPTS =>
                {
                    attempt += 1;
                    tokio::time::sleep(self.retry_delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs `mkfs` on the winner of a new resource: `primary --force`, `mkfs`, then `secondary`
    /// (also when mkfs failed; mkfs's error is returned first). `--force` because quorum may not
    /// be reached yet.
    pub async fn mkfs_as_primary(&self, rsc: &str, mkfs: &Cmd) -> Result<()> {
        self.run(&self.primary_force_cmd(rsc)).await?;
        let made = self.run(mkfs).await;
        let back = self.secondary(rsc).await;
        made?;
        back
    }
}

/// What [`Drbd::apply_resource`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Whether the `.res` file was rewritten.
    pub file: Installed,
    /// Per local volume, what happened to its metadata.
    pub metadata: Vec<(u16, MetadataAction)>,
}

impl Drbd {
    /// Brings one resource up to date on this node, in LINSTOR's order: install the `.res`
    /// (checked by drbdadm, see [`ResFileStore::install`]), set up the metadata of each local
    /// volume ([`ensure_metadata`](Self::ensure_metadata); needs the file), then `drbdadm
    /// adjust`. If anything after the install fails, the last good `.res` is put back (or the
    /// new one removed) and the error returned; on success the file becomes the last good copy.
    pub async fn apply_resource(
        &self,
        store: &ResFileStore,
        rsc: &str,
        text: &str,
        volumes: &[VolumeInit],
        opts: AdjustOpts,
    ) -> Result<Applied> {
        let done = std::sync::Mutex::new(Vec::new());
        let file = store
            .apply(rsc, text, self, || async {
                for v in volumes {
                    let action = self.ensure_metadata(rsc, v).await?;
                    if let Ok(mut d) = done.lock() {
                        d.push((v.vol, action));
                    }
                }
                self.adjust(rsc, opts).await
            })
            .await?;
        let metadata = done.into_inner().unwrap_or_default();
        Ok(Applied { file, metadata })
    }
}

#[async_trait]
impl ConfigChecker for Drbd {
    async fn check(&self, resource: &str, candidate: &Path, current: &Path) -> Result<()> {
        let out = self.run(&self.check_config_cmd(candidate, current)).await?;
        if out.status == 0 {
            Ok(())
        } else {
            let stderr = out
                .stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            Err(DrbdError::ConfigRejected {
                resource: resource.to_owned(),
                stderr,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gi_rules_per_role() {
        let day0 = Gi(0x1234_5678_9ABC_DEF0);
        let new = Gi(0x0FED_CBA9_8765_4321);
        let w = InitialGi::choose(true, false, false, false, new);
        assert_eq!(w, InitialGi::Winner { new_current: new });
        let s = w.gi_strings(1, day0, true);
        assert_eq!(s.len(), 32);
        // Other slots first, the current GI left "just created" there.
        assert_eq!(
            s[0],
            (
                0,
                "0000000000000004:123456789ABCDEF0:0000000000000000:0000000000000000".into()
            )
        );
        assert_eq!(s[1].0, 2);
        // The own slot last, with the new current GI and the flags.
        assert_eq!(
            s[31],
            (
                1,
                "0FEDCBA987654321:123456789ABCDEF0:0000000000000000:0000000000000000:1:1".into()
            )
        );
        // After initialization the winner is a loser too.
        assert_eq!(
            InitialGi::choose(true, true, true, false, new),
            InitialGi::ThinLoser
        );
        let t = InitialGi::ThinLoser.gi_strings(2, day0, false);
        assert_eq!(t.len(), 32);
        assert_eq!(
            t[31],
            (
                2,
                "123456789ABCDEF0:0000000000000000:0000000000000000:0000000000000000:1:1".into()
            )
        );
        assert_eq!(
            t[2].1,
            "0000000000000004:0000000000000000:0000000000000000:0000000000000000"
        );
        // On fresh metadata only the own slot differs.
        assert_eq!(
            InitialGi::ThinLoser.gi_strings(2, day0, true),
            vec![t[31].clone()]
        );
        assert_eq!(
            InitialGi::choose(false, false, true, true, new),
            InitialGi::ThickLoser
        );
        assert_eq!(
            InitialGi::choose(false, false, false, false, new),
            InitialGi::ThickLoser
        );
        assert!(InitialGi::ThickLoser.gi_strings(0, day0, false).is_empty());
    }

    /// A recorded `drbdmeta … dump-md` right after `create-md 7` (drbd-utils 9.22.0).
    const FRESH_DUMP: &str = include_str!("../tests/fixtures/drbdmeta/dump-md-fresh-7-peers.txt");

    #[test]
    fn fresh_dump_rewrites_per_rule() {
        let day0 = Gi(0x1234_5678_9ABC_DEF0);
        let new = Gi(0x0FED_CBA9_8765_4321);
        let changed = |rule: InitialGi| {
            let out = rule
                .rewrite_fresh_dump(day0, FRESH_DUMP)
                .expect("parses")
                .expect("writes");
            assert_eq!(out.lines().count(), FRESH_DUMP.lines().count());
            let mut diff: Vec<(String, usize)> = Vec::new();
            for (a, b) in FRESH_DUMP.lines().zip(out.lines()).filter(|(a, b)| a != b) {
                let key = format!("{} -> {}", a.trim(), b.trim());
                match diff.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => diff.push((key, 1)),
                }
            }
            diff
        };
        let winner = changed(InitialGi::Winner { new_current: new });
        assert_eq!(
            winner,
            [
                (
                    "current-uuid 0x0000000000000004; -> current-uuid 0x0FEDCBA987654321;".into(),
                    1
                ),
                ("flags 0x00000080; -> flags 0x00000091;".into(), 1),
                (
                    "bitmap-uuid 0x0000000000000000; -> bitmap-uuid 0x123456789ABCDEF0;".into(),
                    32
                ),
            ]
        );
        let thin = changed(InitialGi::ThinLoser);
        assert_eq!(
            thin,
            [
                (
                    "current-uuid 0x0000000000000004; -> current-uuid 0x123456789ABCDEF0;".into(),
                    1
                ),
                ("flags 0x00000080; -> flags 0x00000091;".into(), 1),
            ]
        );
        assert_eq!(
            InitialGi::ThickLoser
                .rewrite_fresh_dump(day0, FRESH_DUMP)
                .expect("no-op"),
            None
        );
        // Found by fuzzing: 256 more peer slots overflowed a u8 counter (a panic in debug
        // builds; in release the count wrapped back to 32 and the dump was accepted).
        let too_many = format!("{FRESH_DUMP}{}", "peer[0] {\n}\n".repeat(256));
        for bad in [
            "",
            "version \"v09\";\ncurrent-uuid 0x4;\nflags 0x0;\n",
            "flags zz;\n",
            too_many.as_str(),
        ] {
            assert!(
                matches!(
                    InitialGi::ThinLoser.rewrite_fresh_dump(day0, bad),
                    Err(DrbdError::Parse { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn gi_parsing() {
        assert_eq!(Gi::parse("00000000000000AB"), Some(Gi(0xAB)));
        assert_eq!(Gi::parse("xyz"), None);
        assert_eq!(Gi::parse("12345678901234567"), None);
        let r = GiRecord::parse(
            "AAAAAAAAAAAAAAAA:CCCCCCCCCCCCCCCC:0000000000000000:0000000000000000:1:1:0:0:1:0:0:0:0:0:0:0\n",
        )
        .expect("parses");
        assert_eq!(r.current, Gi(0xAAAA_AAAA_AAAA_AAAA));
        assert!(r.consistent() && r.up_to_date());
        assert_eq!(r.flags.len(), 12);
        assert!(GiRecord::parse("garbage").is_err());
        assert!(GiRecord::parse("A:B:C:D:2").is_err());
    }
}
