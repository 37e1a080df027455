//! Waiting with a progress line: after a spawn, the replicas' disk states until every one is
//! UpToDate (or Diskless where no disk was asked for). On a terminal the line is rewritten in
//! place; in a pipe only the final line is printed. Gives up at the client's timeout.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cmd::{Ctx, items, s, strs};
use crate::error::{CliError, exit};

/// How often the states are asked for.
const POLL: Duration = Duration::from_millis(200);

/// The progress of one resource's replicas, from `GET /v1/view/resources?resources=NAME`:
/// (ready, total, the line to show).
pub fn progress(body: &Value, name: &str) -> (usize, usize, String) {
    let mut ready = 0;
    let mut parts = Vec::new();
    let rscs = items(body);
    for r in rscs {
        let diskless = strs(r, "flags").iter().any(|f| f.contains("DISKLESS"));
        let vols = items(r.get("volumes").unwrap_or(&Value::Null));
        let states: Vec<&str> = vols
            .iter()
            .map(|v| v.get("state").map(|st| s(st, "disk_state")).unwrap_or(""))
            .collect();
        // The least done resync of any volume, as DRBD reports it.
        let resync = vols
            .iter()
            .filter_map(|v| v.get("state")?.get("replication_states")?.as_object())
            .flat_map(|m| m.values())
            .filter_map(|r| r.get("done_percentage").and_then(Value::as_f64))
            .reduce(f64::min);
        let done = !states.is_empty()
            && states.iter().all(|st| {
                *st == "UpToDate" || (diskless && (*st == "Diskless" || *st == "TieBreaker"))
            });
        if done {
            ready += 1;
        }
        let shown = states
            .iter()
            .find(|st| **st != "UpToDate")
            .or(states.first())
            .copied()
            .filter(|st| !st.is_empty())
            .unwrap_or("waiting");
        match resync {
            Some(d) if !done_all(&states) => {
                parts.push(format!("{} {shown} {d:.1}%", s(r, "node_name")));
            }
            _ => parts.push(format!("{} {shown}", s(r, "node_name"))),
        }
    }
    let line = format!(
        "'{name}': {ready}/{} replica(s) ready ({})",
        rscs.len(),
        parts.join(", ")
    );
    (ready, rscs.len(), line)
}

fn done_all(states: &[&str]) -> bool {
    !states.is_empty() && states.iter().all(|s| *s == "UpToDate")
}

/// Waits until every replica of `name` is ready, printing progress; exit 0, or an error at
/// the timeout.
pub fn wait_up_to_date(ctx: &Ctx, name: &str) -> Result<i32, CliError> {
    let tty = std::io::stdout().is_terminal();
    let path = format!(
        "/v1/view/resources{}",
        crate::cmd::query(&[("resources", &[name.to_owned()])])
    );
    let start = Instant::now();
    let deadline = ctx.client.timeout();
    loop {
        let r = ctx.client.get(&path)?;
        let (ready, total, line) = progress(&r.body, name);
        if total > 0 && ready == total {
            if tty {
                ctx.print(&format!("\r\x1b[2K{line}\n"));
            } else {
                ctx.print(&format!("{line}\n"));
            }
            return Ok(exit::OK);
        }
        if tty {
            ctx.print(&format!("\r\x1b[2K{line}"));
        }
        if start.elapsed() >= deadline {
            if tty {
                ctx.print("\n");
            }
            return Err(CliError::Usage {
                message: format!("gave up waiting after {} s: {line}", deadline.as_secs()),
                correction: format!(
                    "the spawn itself succeeded; watch it with `linstor resource list -r {name}`, or wait longer with --timeout"
                ),
            });
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until no resource is left on `node` after an evacuation, printing how many are.
pub fn wait_evacuated(ctx: &Ctx, node: &str) -> Result<i32, CliError> {
    let tty = std::io::stdout().is_terminal();
    let path = format!(
        "/v1/view/resources{}",
        crate::cmd::query(&[("nodes", &[node.to_owned()])])
    );
    let start = Instant::now();
    loop {
        let r = ctx.client.get(&path)?;
        let left: Vec<&str> = items(&r.body).iter().map(|x| s(x, "name")).collect();
        let line = if left.is_empty() {
            format!("'{node}': evacuated, no resource left")
        } else {
            format!(
                "'{node}': {} resource(s) still there ({}), waiting for their replacements to sync",
                left.len(),
                left.join(", ")
            )
        };
        if left.is_empty() {
            ctx.print(&if tty {
                format!("\r\x1b[2K{line}\n")
            } else {
                format!("{line}\n")
            });
            return Ok(exit::OK);
        }
        if tty {
            ctx.print(&format!("\r\x1b[2K{line}"));
        }
        if start.elapsed() >= ctx.client.timeout() {
            if tty {
                ctx.print("\n");
            }
            return Err(CliError::Usage {
                message: format!("gave up waiting: {line}"),
                correction: format!(
                    "the evacuation goes on; watch it with `linstor resource list -n {node}`, or wait longer with --timeout"
                ),
            });
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn progress_counts_ready_replicas() {
        let body = json!([
            {"node_name": "n1", "volumes": [{"state": {"disk_state": "UpToDate"}}]},
            {"node_name": "n2", "volumes": [{"state": {"disk_state": "Inconsistent",
                "replication_states": {"n1": {"replication_state": "SyncTarget", "done_percentage": 42.17}}}}]},
            {"node_name": "n3", "flags": ["DRBD_DISKLESS"], "volumes": [{"state": {"disk_state": "Diskless"}}]},
            {"node_name": "n4", "volumes": [{}]}
        ]);
        let (ready, total, line) = progress(&body, "web");
        assert_eq!((ready, total), (2, 4));
        assert_eq!(
            line,
            "'web': 2/4 replica(s) ready (n1 UpToDate, n2 Inconsistent 42.2%, n3 Diskless, n4 waiting)"
        );
        assert_eq!(progress(&json!([]), "x").1, 0);
    }
}
