//! `controller version | list-properties | set-property`.

use crate::args::ControllerCmd;
use crate::cmd::{Ctx, props_change, props_table, s, seg};
use crate::error::{CliError, exit};

/// Runs a `controller` command.
pub fn run(ctx: &Ctx, c: ControllerCmd) -> Result<i32, CliError> {
    match c {
        ControllerCmd::Version => {
            let r = ctx.client.get("/v1/controller/version")?;
            if ctx.machine {
                ctx.print_json(&r.body);
            } else {
                ctx.print(&format!(
                    "linstor controller {}; GIT-hash: {}\nREST API version: {}\n",
                    s(&r.body, "version"),
                    s(&r.body, "git_hash"),
                    s(&r.body, "rest_api_version")
                ));
            }
            Ok(exit::OK)
        }
        ControllerCmd::ListProperties => match ctx.get_list("/v1/controller/properties")? {
            Ok(body) => Ok(ctx.print_table(&body, &props_table(Some(&body)))),
            Err(code) => Ok(code),
        },
        ControllerCmd::SetProperty(kv) => {
            let r = match &kv.value {
                Some(_) => ctx
                    .client
                    .post("/v1/controller/properties", &props_change(&kv))?,
                None => ctx
                    .client
                    .delete(&format!("/v1/controller/properties/{}", seg(&kv.key)))?,
            };
            ctx.print_replies(&r)
        }
    }
}
