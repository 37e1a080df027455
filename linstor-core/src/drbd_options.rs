//! The DRBD option whitelist and the validation of `DrbdOptions/*` properties.
//!
//! It lives in the core so that every entry point validates `DrbdOptions/*` wherever a
//! property is set: [`crate::cluster::Cluster`] installs [`DrbdOptionsValidator::builtin`] by
//! default. `linstor-drbd` re-exports this module as `linstor_drbd::options` and renders with it.
//!
//! The whitelist is generated from `drbdsetup xml-help {resource,peer-device,net,disk}-options`
//! ([`OptionWhitelist::from_xml_help`]) and checked in as `data/drbd-options.json`; a test
//! regenerates it when drbdsetup is installed and compares. Handler names (`DrbdOptions/Handlers/*`)
//! are not part of xml-help; they are the fixed list [`HANDLER_NAMES`] from `drbd.conf(5)`.
//!
//! Value rules follow drbd-utils' parser (checked against the real `drbdadm` in
//! `tests/real_drbdadm.rs`):
//! * booleans are `yes` or `no`;
//! * handler (enum) options take one of the listed words;
//! * numbers are decimal integers with an optional suffix `s` (512-byte sectors), `k`/`K`, `m`/`M`
//!   or `g`/`G` (powers of 1024). Without a suffix the number is in the option's own unit
//!   (`unit_prefix` `1`, `k` = KiB or `s` = sectors); with one it is converted into that unit
//!   (rounding up) before the range check;
//! * numeric-or-symbol options (`quorum`) take a number in range or one of the symbols;
//! * strings may contain any printable character except `"` and `\`; they are quoted in `.res`.
//!
//! One exception: `resync-after` is numeric (a minor) for drbdsetup, but in a `.res` file it names
//! the resource to wait for, so it accepts `-1` or `<resource>[/<volume>]`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// What can go wrong reading a whitelist or checking an option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// A `DrbdOptions/*` key or value is not accepted (unknown option, bad value, or an option
    /// LINSTOR manages itself).
    #[error("invalid DRBD option '{key}' = '{value}': allowed: {allowed}")]
    InvalidOption {
        /// The full property key (`DrbdOptions/Net/protocol`) or `<section>/<option>`.
        key: String,
        /// The value as given.
        value: String,
        /// What would be accepted (a list of values, a range with its unit, or the known options).
        allowed: String,
    },
    /// The whitelist data (JSON or `xml-help` output) cannot be read.
    #[error("cannot parse '{line}': {reason}")]
    Parse {
        /// The offending line.
        line: String,
        /// What is wrong with it.
        reason: String,
    },
}

type Result<T> = std::result::Result<T, OptionsError>;

/// The checked-in whitelist, generated from drbd-utils' `drbdsetup xml-help`.
pub const BUILTIN_JSON: &str = include_str!("../data/drbd-options.json");

/// The drbdsetup commands whose `xml-help` makes up the whitelist, with their property section.
pub const XML_HELP_COMMANDS: &[(&str, Section)] = &[
    ("resource-options", Section::Resource),
    ("peer-device-options", Section::PeerDevice),
    ("net-options", Section::Net),
    ("disk-options", Section::Disk),
];

/// Handler names accepted in a `handlers { }` section (the list drbdadm 9.22 accepts; every one
/// is checked against the real drbdadm in `tests/real_drbdadm.rs`).
pub const HANDLER_NAMES: &[&str] = &[
    "after-resync-target",
    "before-resync-source",
    "before-resync-target",
    "disconnected",
    "fence-peer",
    "initial-split-brain",
    "local-io-error",
    "out-of-sync",
    "outdate-peer",
    "pri-lost",
    "pri-lost-after-sb",
    "pri-on-incon-degr",
    "quorum-lost",
    "split-brain",
    "unfence-peer",
];

/// Options LINSTOR writes itself (from the resource definition's secret); never properties.
pub const MANAGED_OPTIONS: &[(Section, &str)] = &[
    (Section::Net, "shared-secret"),
    (Section::Net, "cram-hmac-alg"),
];

/// A `DrbdOptions/<Section>/…` namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Section {
    /// `DrbdOptions/Resource/*`: the `options { }` section (`resource-options`).
    Resource,
    /// `DrbdOptions/Net/*`: `net { }` (`net-options`).
    Net,
    /// `DrbdOptions/Disk/*`: `disk { }` (`disk-options`).
    Disk,
    /// `DrbdOptions/PeerDevice/*`: also written into `disk { }` (`peer-device-options`).
    PeerDevice,
    /// `DrbdOptions/Handlers/*`: `handlers { }`.
    Handlers,
}

impl Section {
    /// Every section, in property-namespace order.
    pub const ALL: [Section; 5] = [
        Section::Resource,
        Section::Net,
        Section::Disk,
        Section::PeerDevice,
        Section::Handlers,
    ];

    /// The namespace word after `DrbdOptions/` (`PeerDevice`).
    pub fn namespace(self) -> &'static str {
        match self {
            Section::Resource => "Resource",
            Section::Net => "Net",
            Section::Disk => "Disk",
            Section::PeerDevice => "PeerDevice",
            Section::Handlers => "Handlers",
        }
    }

    /// Parses the namespace word (`Net`); `None` for anything else.
    pub fn from_namespace(word: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.namespace() == word)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.namespace())
    }
}

/// The type of one option, as `drbdsetup xml-help` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum OptionType {
    /// `yes` / `no`.
    Boolean {
        /// The default (`yes`/`no`), if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    /// One of a fixed list of words (xml-help calls it `handler`).
    Handler {
        /// The accepted words.
        values: Vec<String>,
    },
    /// An integer in `min..=max`, in units of `unit_prefix` (`1`, `k` = KiB, `s` = sectors).
    Numeric {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Default value, as printed by xml-help.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// `1`, `k` or `s`.
        unit_prefix: String,
        /// Human unit (`bytes`, `1/10 seconds`, …), if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    /// A number in `min..=max` or one of the symbols (`quorum`).
    NumericOrSymbol {
        /// Smallest number.
        min: i64,
        /// Largest number.
        max: i64,
        /// Default, as printed by xml-help.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// Accepted words.
        symbols: Vec<String>,
    },
    /// Free text (quoted in `.res`).
    String,
    /// A drbdsetup command-line flag (`set-defaults`); never a property.
    Flag,
}

/// One option of one section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionSpec {
    /// The drbdsetup option name (`on-no-quorum`).
    pub name: String,
    /// Its type.
    #[serde(flatten)]
    pub ty: OptionType,
}

impl OptionSpec {
    /// Whether users may set this option as a property (flags and `_internal` options are not).
    pub fn settable(&self) -> bool {
        !matches!(self.ty, OptionType::Flag) && !self.name.starts_with('_')
    }

    /// Whether the value is written in double quotes in a `.res` file.
    pub fn quoted(&self) -> bool {
        matches!(self.ty, OptionType::String)
    }

    /// A sentence saying what values are allowed.
    pub fn allowed(&self) -> String {
        match &self.ty {
            OptionType::Boolean { .. } => "yes, no".to_owned(),
            OptionType::Handler { values } => values.join(", "),
            OptionType::Numeric {
                min,
                max,
                unit_prefix,
                unit,
                ..
            } => {
                let unit = match (unit_prefix.as_str(), unit.as_deref()) {
                    ("k", Some(u)) => format!(" (unit: KiB, {u}; suffixes s, k, M, G)"),
                    ("s", Some(u)) => {
                        format!(" (unit: 512-byte sectors, {u}; suffixes s, k, M, G)")
                    }
                    (_, Some(u)) => format!(" (unit: {u})"),
                    _ => String::new(),
                };
                if self.name == "resync-after" {
                    format!(
                        "-1 or <resource>[/<volume>] (as a minor: an integer from {min} to {max})"
                    )
                } else {
                    format!("an integer from {min} to {max}{unit}")
                }
            }
            OptionType::NumericOrSymbol {
                min, max, symbols, ..
            } => {
                format!("{} or an integer from {min} to {max}", symbols.join(", "))
            }
            OptionType::String => "any text without '\"', '\\' or control characters".to_owned(),
            OptionType::Flag => "nothing: this is a command-line flag, not a property".to_owned(),
        }
    }

    /// Checks a value; `Err` holds the [`allowed`](Self::allowed) sentence.
    pub fn check(&self, value: &str) -> std::result::Result<(), String> {
        let ok = match &self.ty {
            OptionType::Boolean { .. } => value == "yes" || value == "no",
            OptionType::Handler { values } => values.iter().any(|v| v == value),
            OptionType::Numeric {
                min,
                max,
                unit_prefix,
                ..
            } => {
                if self.name == "resync-after" && value != "-1" {
                    is_resource_ref(value)
                } else {
                    parse_scaled(value, unit_prefix).is_some_and(|n| (*min..=*max).contains(&n))
                }
            }
            OptionType::NumericOrSymbol {
                min, max, symbols, ..
            } => {
                symbols.iter().any(|s| s == value)
                    || parse_scaled(value, "1").is_some_and(|n| (*min..=*max).contains(&n))
            }
            OptionType::String => is_plain_text(value),
            OptionType::Flag => false,
        };
        if ok { Ok(()) } else { Err(self.allowed()) }
    }
}

/// `<resource>[/<volume>]` as drbd.conf's `resync-after` takes it.
fn is_resource_ref(value: &str) -> bool {
    let (rsc, vol) = match value.split_once('/') {
        Some((r, v)) => (r, Some(v)),
        None => (value, None),
    };
    !rsc.is_empty()
        && rsc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && vol.is_none_or(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
}

/// Text that can sit between double quotes in a `.res` file without escaping.
pub fn is_plain_text(value: &str) -> bool {
    !value.is_empty()
        && !value
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
}

/// Parses `[-]digits[suffix]` into units of `unit_prefix` (`1`, `k`, `s`), rounding up.
fn parse_scaled(value: &str, unit_prefix: &str) -> Option<i64> {
    let (digits, suffix) = match value.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&value[..i], Some(c)),
        _ => (value, None),
    };
    let (neg, body) = match digits.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, digits),
    };
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i128 = body.parse().ok()?;
    let n = if neg { -n } else { n };
    let base: i128 = match unit_prefix {
        "k" => 1024,
        "s" => 512,
        _ => 1,
    };
    let Some(suffix) = suffix else {
        return i64::try_from(n).ok();
    };
    let mult: i128 = match suffix {
        's' => 512,
        'k' | 'K' => 1 << 10,
        'm' | 'M' => 1 << 20,
        'g' | 'G' => 1 << 30,
        _ => return None,
    };
    let bytes = n.checked_mul(mult)?;
    // Round up, as a suffix may name a smaller unit than the option's (1s of a KiB option).
    let units = if bytes >= 0 {
        (bytes + base - 1) / base
    } else {
        bytes / base
    };
    i64::try_from(units).ok()
}

/// The whole whitelist: every option of every section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionWhitelist {
    /// How the data was produced.
    pub generated_from: String,
    /// The drbd-utils version whose drbdsetup printed it.
    pub drbd_utils_version: String,
    /// Options per section (Handlers is not stored here; see [`HANDLER_NAMES`]).
    pub sections: BTreeMap<Section, Vec<OptionSpec>>,
}

static BUILTIN: OnceLock<OptionWhitelist> = OnceLock::new();

impl OptionWhitelist {
    /// The checked-in whitelist ([`BUILTIN_JSON`]).
    pub fn builtin() -> &'static OptionWhitelist {
        BUILTIN.get_or_init(|| {
            // The file is part of the crate and tested (`builtin_whitelist_parses`); failing here
            // means the crate itself is broken, not the host.
            #[allow(
                clippy::expect_used,
                reason = "checked-in data, covered by a unit test"
            )]
            OptionWhitelist::from_json(BUILTIN_JSON).expect("data/drbd-options.json is valid")
        })
    }

    /// Parses the JSON form (as written by [`to_json`](Self::to_json)).
    pub fn from_json(text: &str) -> Result<OptionWhitelist> {
        serde_json::from_str(text).map_err(|e| OptionsError::Parse {
            line: format!("drbd-options.json line {}", e.line()),
            reason: e.to_string(),
        })
    }

    /// The JSON form: pretty-printed, sections and options in xml-help order, trailing newline.
    pub fn to_json(&self) -> String {
        // Serialising plain data into a String cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Builds the whitelist from the output of `drbdsetup xml-help <command>` for each of
    /// [`XML_HELP_COMMANDS`] (`outputs` pairs a command with its stdout).
    pub fn from_xml_help(drbd_utils_version: &str, outputs: &[(&str, &str)]) -> Result<Self> {
        let mut sections = BTreeMap::new();
        for (command, xml) in outputs {
            let section = XML_HELP_COMMANDS
                .iter()
                .find(|(c, _)| c == command)
                .map(|(_, s)| *s)
                .ok_or_else(|| OptionsError::Parse {
                    line: (*command).to_owned(),
                    reason: "not one of the xml-help commands of the whitelist".to_owned(),
                })?;
            sections.insert(section, parse_xml_help(xml)?);
        }
        Ok(OptionWhitelist {
            generated_from: "drbdsetup xml-help {resource,peer-device,net,disk}-options".to_owned(),
            drbd_utils_version: drbd_utils_version.to_owned(),
            sections,
        })
    }

    /// Looks up an option.
    pub fn get(&self, section: Section, option: &str) -> Option<&OptionSpec> {
        self.sections
            .get(&section)?
            .iter()
            .find(|o| o.name == option)
    }

    /// The settable option names of a section, sorted (without [`MANAGED_OPTIONS`]).
    pub fn names(&self, section: Section) -> Vec<&str> {
        if section == Section::Handlers {
            return HANDLER_NAMES.to_vec();
        }
        let mut names: Vec<&str> = self
            .sections
            .get(&section)
            .into_iter()
            .flatten()
            .filter(|o| o.settable() && !MANAGED_OPTIONS.contains(&(section, o.name.as_str())))
            .map(|o| o.name.as_str())
            .collect();
        names.sort_unstable();
        names
    }

    /// Validates one option value; the error lists what is allowed.
    pub fn validate(&self, section: Section, option: &str, value: &str) -> Result<()> {
        let key = format!("DrbdOptions/{section}/{option}");
        let invalid = |allowed: String| OptionsError::InvalidOption {
            key: key.clone(),
            value: value.to_owned(),
            allowed,
        };
        if section == Section::Handlers {
            if !HANDLER_NAMES.contains(&option) {
                return Err(invalid(format!(
                    "handler names: {}",
                    HANDLER_NAMES.join(", ")
                )));
            }
            return if is_plain_text(value) {
                Ok(())
            } else {
                Err(invalid(
                    "a command line without '\"', '\\' or control characters".into(),
                ))
            };
        }
        if MANAGED_OPTIONS.contains(&(section, option)) {
            return Err(invalid(
                "nothing: LINSTOR sets it from the resource definition's shared secret".into(),
            ));
        }
        match self.get(section, option).filter(|o| o.settable()) {
            None => Err(invalid(format!(
                "'{option}' is not a {section} option; known options: {}",
                self.names(section).join(", ")
            ))),
            Some(spec) => spec.check(value).map_err(invalid),
        }
    }

    /// Validates a full property key. Returns `Ok(false)` for keys outside
    /// `DrbdOptions/{Resource,Net,Disk,PeerDevice,Handlers}/` (not ours to judge), `Ok(true)` for a
    /// valid DRBD option.
    pub fn validate_property(&self, key: &str, value: &str) -> Result<bool> {
        let Some((section, option)) = split_option_key(key) else {
            return Ok(false);
        };
        self.validate(section, option, value)?;
        Ok(true)
    }

    /// Whether the option's value is quoted in a `.res` file (strings and handler commands).
    pub fn quoted(&self, section: Section, option: &str) -> bool {
        section == Section::Handlers || self.get(section, option).is_some_and(OptionSpec::quoted)
    }
}

/// Splits `DrbdOptions/<Section>/<option>` into its parts.
pub fn split_option_key(key: &str) -> Option<(Section, &str)> {
    let rest = key.strip_prefix("DrbdOptions/")?;
    let (section, option) = rest.split_once('/')?;
    Some((Section::from_namespace(section)?, option))
}

/// Parses one `drbdsetup xml-help <command>` document.
pub fn parse_xml_help(xml: &str) -> Result<Vec<OptionSpec>> {
    #[derive(Default)]
    struct Raw {
        name: String,
        ty: String,
        values: Vec<String>,
        symbols: Vec<String>,
        min: Option<String>,
        max: Option<String>,
        default: Option<String>,
        unit_prefix: Option<String>,
        unit: Option<String>,
    }
    let perr = |line: &str, reason: &str| OptionsError::Parse {
        line: line.to_owned(),
        reason: reason.to_owned(),
    };
    let num = |line: &str, v: Option<String>| -> Result<i64> {
        v.as_deref()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| perr(line, "numeric option without an integer min/max"))
    };
    let mut out = Vec::new();
    let mut cur: Option<Raw> = None;
    for line in xml.lines().map(str::trim) {
        if line.starts_with("<option ") {
            let name = attr(line, "name").ok_or_else(|| perr(line, "option without name"))?;
            let ty = attr(line, "type").ok_or_else(|| perr(line, "option without type"))?;
            cur = Some(Raw {
                name,
                ty,
                ..Raw::default()
            });
        } else if line == "</option>" {
            let r = cur
                .take()
                .ok_or_else(|| perr(line, "</option> without <option>"))?;
            let ty = match r.ty.as_str() {
                "boolean" => OptionType::Boolean { default: r.default },
                "handler" => OptionType::Handler { values: r.values },
                "numeric" => OptionType::Numeric {
                    min: num(line, r.min)?,
                    max: num(line, r.max)?,
                    default: r.default,
                    unit_prefix: r.unit_prefix.unwrap_or_else(|| "1".to_owned()),
                    unit: r.unit,
                },
                "numeric-or-symbol" => OptionType::NumericOrSymbol {
                    min: num(line, r.min)?,
                    max: num(line, r.max)?,
                    default: r.default,
                    symbols: r.symbols,
                },
                "string" => OptionType::String,
                "flag" => OptionType::Flag,
                other => return Err(perr(other, "unknown option type")),
            };
            out.push(OptionSpec { name: r.name, ty });
        } else if let Some(r) = cur.as_mut() {
            if let Some((tag, text)) = element(line) {
                match tag {
                    "handler" => r.values.push(text),
                    "symbol" => r.symbols.push(text),
                    "min" => r.min = Some(text),
                    "max" => r.max = Some(text),
                    "default" => r.default = Some(text),
                    "unit_prefix" => r.unit_prefix = Some(text),
                    "unit" => r.unit = Some(text),
                    _ => {}
                }
            }
        }
    }
    if cur.is_some() {
        return Err(perr("<option>", "unterminated option"));
    }
    Ok(out)
}

fn attr(line: &str, name: &str) -> Option<String> {
    let start = line.find(&format!("{name}=\""))? + name.len() + 2;
    let len = line[start..].find('"')?;
    Some(unescape(&line[start..start + len]))
}

fn element(line: &str) -> Option<(&str, String)> {
    let rest = line.strip_prefix('<')?;
    let (tag, rest) = rest.split_once('>')?;
    let text = rest.strip_suffix(&format!("</{tag}>"))?;
    Some((tag, unescape(text)))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The validator the core's property checks call for `DrbdOptions/<Section>/<option>` keys.
#[derive(Debug, Clone, Copy)]
pub struct DrbdOptionsValidator {
    whitelist: &'static OptionWhitelist,
}

impl DrbdOptionsValidator {
    /// A validator over the checked-in whitelist.
    pub fn builtin() -> Self {
        DrbdOptionsValidator {
            whitelist: OptionWhitelist::builtin(),
        }
    }

    /// The whitelist it checks against.
    pub fn whitelist(&self) -> &'static OptionWhitelist {
        self.whitelist
    }
}

impl Default for DrbdOptionsValidator {
    fn default() -> Self {
        Self::builtin()
    }
}

impl crate::props::DrbdOptionValidator for DrbdOptionsValidator {
    fn validate(
        &self,
        section: &str,
        option: &str,
        value: &str,
    ) -> std::result::Result<(), String> {
        let Some(section) = Section::from_namespace(section) else {
            return Err(format!(
                "unknown DRBD option section '{section}'; sections: Resource, Net, Disk, PeerDevice, Handlers"
            ));
        };
        self.whitelist
            .validate(section, option, value)
            .map_err(|e| match e {
                OptionsError::InvalidOption { allowed, .. } => allowed,
                other => other.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_whitelist_parses() {
        let w = OptionWhitelist::builtin();
        assert_eq!(w.sections.len(), 4);
        assert!(w.get(Section::Resource, "quorum").is_some());
        assert_eq!(
            OptionWhitelist::from_json(&w.to_json()).ok().as_ref(),
            Some(w)
        );
    }

    /// One table for every validation rule: (key, value, expected Ok).
    fn check(cases: &[(&str, &str, bool)]) {
        let w = OptionWhitelist::builtin();
        let mut failures = Vec::new();
        for (key, value, ok) in cases {
            let got = w.validate_property(key, value);
            if got.is_ok() != *ok {
                failures.push(format!("{key} = {value}: expected ok={ok}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn validation_table() {
        check(&[
            ("DrbdOptions/Resource/quorum", "majority", true),
            ("DrbdOptions/Resource/quorum", "2", true),
            ("DrbdOptions/Resource/quorum", "33", false),
            ("DrbdOptions/Resource/quorum", "bogus", false),
            ("DrbdOptions/Resource/on-no-quorum", "io-error", true),
            ("DrbdOptions/Resource/on-no-quorum", "panic", false),
            ("DrbdOptions/Resource/auto-promote", "yes", true),
            ("DrbdOptions/Resource/auto-promote", "true", false),
            ("DrbdOptions/Resource/set-defaults", "yes", false),
            ("DrbdOptions/Net/protocol", "C", true),
            ("DrbdOptions/Net/protocol", "D", false),
            ("DrbdOptions/Net/_name", "x", false),
            ("DrbdOptions/Net/max-buffers", "8000", true),
            ("DrbdOptions/Net/max-buffers", "31", false),
            ("DrbdOptions/Net/max-buffers", "131073", false),
            ("DrbdOptions/Net/max-buffers", "1e3", false),
            ("DrbdOptions/Net/max-buffers", "", false),
            ("DrbdOptions/Net/verify-alg", "crct10dif", true),
            ("DrbdOptions/Net/shared-secret", "s3cret", false),
            ("DrbdOptions/Net/cram-hmac-alg", "sha256", false),
            ("DrbdOptions/Net/verify-alg", "a\"b", false),
            ("DrbdOptions/Net/no-such-option", "1", false),
            ("DrbdOptions/PeerDevice/resync-rate", "100M", true),
            ("DrbdOptions/PeerDevice/resync-rate", "8G", true),
            ("DrbdOptions/PeerDevice/resync-rate", "9G", false),
            ("DrbdOptions/PeerDevice/resync-rate", "0", false),
            ("DrbdOptions/PeerDevice/resync-rate", "1s", true),
            ("DrbdOptions/PeerDevice/resync-rate", "1S", false),
            ("DrbdOptions/PeerDevice/resync-rate", "1.5M", false),
            ("DrbdOptions/PeerDevice/resync-rate", "+5", false),
            ("DrbdOptions/PeerDevice/c-fill-target", "512M", true),
            ("DrbdOptions/PeerDevice/c-fill-target", "513M", false),
            ("DrbdOptions/Disk/rs-discard-granularity", "1M", true),
            ("DrbdOptions/Disk/rs-discard-granularity", "2M", false),
            ("DrbdOptions/Disk/al-extents", "66", false),
            ("DrbdOptions/Disk/on-io-error", "detach", true),
            ("DrbdOptions/Disk/resync-after", "-1", true),
            ("DrbdOptions/Disk/resync-after", "rsc1/0", true),
            ("DrbdOptions/Disk/resync-after", "rsc 1", false),
            (
                "DrbdOptions/Handlers/split-brain",
                "/usr/lib/drbd/notify-split-brain.sh root",
                true,
            ),
            ("DrbdOptions/Handlers/no-such-handler", "/bin/true", false),
            ("DrbdOptions/Handlers/fence-peer", "a\nb", false),
            // Not ours: other namespaces pass through.
            ("DrbdOptions/auto-quorum", "whatever", true),
            ("Aux/foo", "bar", true),
        ]);
    }

    #[test]
    fn errors_list_what_is_allowed() {
        let w = OptionWhitelist::builtin();
        let msg = |k: &str, v: &str| w.validate_property(k, v).err().map(|e| e.to_string());
        insta::assert_snapshot!(
            [
                msg("DrbdOptions/Resource/on-no-quorum", "panic"),
                msg("DrbdOptions/Net/max-buffers", "1"),
                msg("DrbdOptions/PeerDevice/resync-rate", "9G"),
                msg("DrbdOptions/Resource/quorum", "most"),
                msg("DrbdOptions/PeerDevice/bogus", "1"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")
        );
    }

    #[test]
    fn core_trait_reports_allowed_values() {
        use crate::props::DrbdOptionValidator as _;
        let v = DrbdOptionsValidator::builtin();
        assert_eq!(v.validate("Net", "protocol", "C"), Ok(()));
        assert_eq!(
            v.validate("Net", "protocol", "X"),
            Err("A, B, C".to_owned())
        );
        assert!(v.validate("Bogus", "protocol", "C").is_err());
    }

    #[test]
    fn xml_help_parser_reads_every_type() {
        let xml = r#"<command name="resource-options">
	<option name="set-defaults" type="flag">
	</option>
	<option name="on-no-quorum" type="handler">
		<handler>io-error</handler>
		<handler>suspend-io</handler>
	</option>
	<option name="quorum" type="numeric-or-symbol">
		<min>1</min>
		<max>32</max>
		<default>off</default>
		<symbol>off</symbol>
	</option>
	<option name="peer-ack-window" type="numeric">
		<min>2048</min>
		<max>204800</max>
		<default>4096</default>
		<unit_prefix>s</unit_prefix>
		<unit>bytes</unit>
	</option>
</command>"#;
        let opts = parse_xml_help(xml).ok().unwrap_or_default();
        insta::assert_json_snapshot!(opts);
        assert!(parse_xml_help("<option name=\"x\" type=\"weird\">\n</option>").is_err());
        assert!(parse_xml_help("<option name=\"x\" type=\"numeric\">\n</option>").is_err());
    }
}
