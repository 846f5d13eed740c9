//! `bolt rerun`: one work order from the start or a step, or every one matching a filter.

use super::history::*;
use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_shared::client::Client;
use bolt_shared::model::*;
use bolt_shared::protocol::{Event, Request, Response};

#[derive(clap::Args, Debug)]
pub struct RerunArgs {
    /// The work order, run or step to rerun (not with --all-matching).
    pub reference: Option<String>,
    /// Start at this job with the input it had in the run (upstream steps are attached).
    #[arg(long, value_name = "JOB")]
    pub from: Option<String>,
    /// Rerun every work order matching the filters, oldest first.
    #[arg(long)]
    pub all_matching: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Confirm a bulk rerun.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn rerun(global: &Global, args: &RerunArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let request = match (&args.reference, args.all_matching) {
        (Some(reference), false) => Request::Rerun {
            reference: reference.clone(),
            from_job: args.from.clone(),
        },
        (None, true) => {
            let filter = args.filter.to_filter()?;
            let count = count_matching(&mut client, &filter)?;
            if !args.yes {
                return Err(anyhow!(
                    "{count} work order{} match; add --yes to rerun {} (oldest first{})",
                    if count == "1" { "" } else { "s" },
                    if count == "1" { "it" } else { "them" },
                    args.from
                        .as_deref()
                        .map(|j| format!(", from job {j}"))
                        .unwrap_or_default()
                )
                .into());
            }
            crate::say_err!("rerunning {count} work orders, oldest first…");
            show_progress(global);
            Request::RerunMatching {
                filter,
                from_job: args.from.clone(),
            }
        }
        (Some(_), true) => {
            return Err(
                anyhow!("give a reference or --all-matching with filters, not both").into(),
            );
        }
        (None, false) => {
            return Err(anyhow!(
                "say what to rerun: a reference (bolt rerun REF) or --all-matching with filters"
            )
            .into());
        }
    };
    let outcomes = expect(client.request(request)?, |r| match r {
        Response::Reruns { outcomes } => Some(outcomes),
        _ => None,
    })?;
    if args.json {
        output::print_json(&outcomes)?;
        return Ok(());
    }
    let queued = outcomes.iter().filter(|o| o.run_id.is_some()).count();
    for outcome in &outcomes {
        match (&outcome.run_id, &outcome.skipped) {
            (Some(run), _) if outcomes.len() == 1 => crate::say!(
                "queued run {} in work order {}",
                short_ref(run),
                short_ref(&outcome.work_order_id)
            ),
            (None, Some(reason)) => {
                crate::say!("skipped {}: {reason}", short_ref(&outcome.work_order_id))
            }
            _ => {}
        }
    }
    if outcomes.len() > 1 || args.all_matching {
        crate::say!("{queued} queued, {} skipped", outcomes.len() - queued);
    }
    if queued == 0 && outcomes.len() == 1 {
        return Err(anyhow!("nothing was rerun").into());
    }
    Ok(())
}

/// Prints the daemon's bulk progress events to stderr while the request runs.
fn show_progress(global: &Global) {
    let Ok(mut watcher) = global.connect() else {
        return;
    };
    if watcher.subscribe().is_err() {
        return;
    }
    std::thread::spawn(move || {
        while let Ok(event) = watcher.next_event() {
            if let Event::BulkProgress { done, total } = event {
                crate::say_err!("  queued {done}/{total}");
                if done >= total {
                    break;
                }
            }
        }
    });
}

/// How many work orders match, as text ("1000+" when a search matched more than boltd counts).
fn count_matching(client: &mut Client, filter: &WorkOrderFilter) -> Result<String, CliError> {
    let page = expect(
        client.request(Request::ListWorkOrders {
            filter: filter.clone(),
            limit: 1,
            after: None,
        })?,
        |r| match r {
            Response::WorkOrders(page) => Some(page),
            _ => None,
        },
    )?;
    let wanted = &filter.states;
    let count: u64 = page
        .counts
        .iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.state))
        .map(|c| c.count)
        .sum();
    Ok(format!(
        "{count}{}",
        if page.counts_capped { "+" } else { "" }
    ))
}
