//! `advise fit | failure`: the controller's what-if answers (`/v1/advise/…`), in words and
//! tables. The texts are pure functions of the JSON ([`fit_text`], [`failure_text`]).

use std::fmt::Write as _;

use serde_json::Value;

use crate::args::AdviseCmd;
use crate::cmd::{Ctx, items, parse_size, query, s, size_kib, state_cell};
use crate::error::CliError;
use crate::table::{Cell, Color, Style, Table};

/// Runs an `advise` command.
pub fn run(ctx: &Ctx, c: AdviseCmd) -> Result<i32, CliError> {
    match c {
        AdviseCmd::Fit { group, size, limit } => {
            let kib = parse_size(&size)?;
            let path = format!(
                "/v1/advise/fit{}&size={kib}KiB&limit={limit}",
                query(&[("resource_group", std::slice::from_ref(&group))])
            );
            match ctx.get_list(&path)? {
                Ok(body) if ctx.machine => {
                    ctx.print_json(&body);
                    Ok(0)
                }
                Ok(body) => {
                    ctx.print(&fit_text(&body, &group, kib, ctx.style));
                    Ok(0)
                }
                Err(code) => Ok(code),
            }
        }
        AdviseCmd::Failure { nodes, domain } => {
            let mut path = format!("/v1/advise/failure{}", query(&[("nodes", &nodes)]));
            if let Some(d) = domain {
                let Some((k, v)) = d.split_once('=') else {
                    return Err(CliError::Usage {
                        message: format!("--domain '{d}' is not KEY=VALUE"),
                        correction: "name a failure domain as a node property and its value, e.g. --domain Aux/zone=b".into(),
                    });
                };
                let sep = if path.contains('?') { '&' } else { '?' };
                path = format!(
                    "{path}{sep}property={}&value={}",
                    crate::cmd::seg(k),
                    crate::cmd::seg(v)
                );
            }
            match ctx.get_list(&path)? {
                Ok(body) if ctx.machine => {
                    ctx.print_json(&body);
                    Ok(0)
                }
                Ok(body) => {
                    ctx.print(&failure_text(&body, ctx.style));
                    Ok(0)
                }
                Err(code) => Ok(code),
            }
        }
    }
}

/// `[[a, b], …]` as `a (b)` lines: (node, pool) and (node, role) pairs.
fn pairs(v: Option<&Value>) -> Vec<String> {
    items(v.unwrap_or(&Value::Null))
        .iter()
        .filter_map(|p| {
            let a = p.as_array()?;
            Some(format!(
                "{} ({})",
                a.first()?.as_str()?,
                a.get(1)?.as_str()?
            ))
        })
        .collect()
}

fn why_text(out: &mut String, why: &Value) {
    for (title, key) in [
        ("Cause", "cause"),
        ("Details", "details"),
        ("Correction", "correction"),
    ] {
        let text = s(why, key);
        if !text.is_empty() {
            let _ = writeln!(out, "{title}:");
            for line in text.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
}

/// `advise fit` in words: the count, where the first goes, replicas per node, and why the
/// next one would be refused.
pub fn fit_text(body: &Value, group: &str, kib: u64, style: Style) -> String {
    let count = body.get("count").and_then(Value::as_u64).unwrap_or(0);
    let capped = body.get("capped").and_then(Value::as_bool).unwrap_or(false);
    let mut out = String::new();
    let more = if capped {
        " (the limit; more may fit)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{count} more volume(s) of {} fit in resource group '{group}'{more}.",
        size_kib(kib)
    );
    let first = pairs(body.get("first"));
    if !first.is_empty() {
        let _ = writeln!(out, "The next one would go to: {}.", first.join(", "));
    }
    if let Some(per) = body.get("replicas_per_node").and_then(Value::as_object) {
        if !per.is_empty() {
            let mut t = Table::new(&["Node", "Replicas"]).right(&["Replicas"]);
            for (n, c) in per {
                t.row(vec![n.as_str().into(), c.to_string().into()]);
            }
            out.push_str(&t.render(style));
        }
    }
    if let Some(why) = body.get("stopped_by").filter(|w| !w.is_null()) {
        let _ = writeln!(out, "Volume {} would be refused:", count + 1);
        why_text(&mut out, why);
    }
    out
}

/// `advise failure` in words: a table of the affected resources, then why what cannot be
/// rebuilt cannot.
pub fn failure_text(body: &Value, style: Style) -> String {
    let failed: Vec<&str> = items(body.get("failed").unwrap_or(&Value::Null))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let affected = items(body.get("affected").unwrap_or(&Value::Null));
    let unaffected = body.get("unaffected").and_then(Value::as_u64).unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "If {} fail(s): {} resource(s) affected, {unaffected} untouched.",
        failed.join(", "),
        affected.len()
    );
    if affected.is_empty() {
        return out;
    }
    let mut t = Table::new(&["Resource", "Lost", "DiskfulLeft", "Quorum", "Rebuild"])
        .right(&["DiskfulLeft"]);
    let mut whys = Vec::new();
    for i in affected {
        let lost = pairs(i.get("lost"));
        let data_lost = i.get("data_lost").and_then(Value::as_bool) == Some(true);
        let quorum = if data_lost {
            Cell::colored("DATA OFFLINE", Some(Color::Red))
        } else if i.get("quorum_kept").and_then(Value::as_bool) == Some(true) {
            state_cell("Ok")
        } else {
            Cell::colored("LOST (read-only)", Some(Color::Red))
        };
        let rebuild = pairs(i.get("rebuild"));
        let rebuild_cell = if let Some(why) = i.get("cannot_rebuild").filter(|w| !w.is_null()) {
            whys.push((s(i, "resource").to_owned(), why.clone()));
            Cell::colored("cannot (see below)", Some(Color::Red))
        } else if data_lost {
            Cell::colored("no source left", Some(Color::Red))
        } else if rebuild.is_empty() {
            "not needed".into()
        } else {
            rebuild.join("\n").into()
        };
        t.row(vec![
            s(i, "resource").into(),
            lost.join("\n").into(),
            i.get("diskful_left")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .to_string()
                .into(),
            quorum,
            rebuild_cell,
        ]);
    }
    out.push_str(&t.render(style));
    for (rsc, why) in whys {
        let _ = writeln!(out, "'{rsc}' cannot be rebuilt:");
        why_text(&mut out, &why);
    }
    out
}
