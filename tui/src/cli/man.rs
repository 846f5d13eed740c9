//! `bolt man`: man pages made from the command line's own definition, so they never drift
//! from `--help`: bolt(1), and bolt-runs(1) and the like for every subcommand.

use super::CliError;
use anyhow::{Context, anyhow};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// A subcommand's page instead of bolt(1), e.g. `runs` or `adaptor add`.
    #[arg(num_args = 0.., value_name = "SUBCOMMAND")]
    pub command: Vec<String>,
    /// Write bolt.1 and one page per subcommand (bolt-runs.1, …) into this directory.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

pub fn run(root: clap::Command, args: &ManArgs) -> Result<(), CliError> {
    let pages = pages(root);
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, command) in &pages {
            let path = dir.join(format!("{name}.1"));
            let mut file = std::fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            clap_mangen::Man::new(command.clone())
                .render(&mut file)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        crate::say_err!("wrote {} man pages into {}", pages.len(), dir.display());
        return Ok(());
    }
    let wanted = std::iter::once("bolt".to_string())
        .chain(args.command.iter().cloned())
        .collect::<Vec<_>>()
        .join("-");
    let (_, command) = pages
        .iter()
        .find(|(name, _)| *name == wanted)
        .ok_or_else(|| {
            anyhow!(
                "bolt has no subcommand `{}`: see `bolt --help`",
                args.command.join(" ")
            )
        })?;
    clap_mangen::Man::new(command.clone())
        .render(&mut std::io::stdout())
        .map_err(|e| anyhow!("cannot print the man page: {e}"))?;
    Ok(())
}

/// `(page name, command)` for bolt and each subcommand, depth first: bolt, bolt-adaptor,
/// bolt-adaptor-add, …
fn pages(root: clap::Command) -> Vec<(String, clap::Command)> {
    let mut root = root;
    root.build();
    let mut out = Vec::new();
    collect(&root, "bolt", &mut out);
    out
}

fn collect(command: &clap::Command, name: &str, out: &mut Vec<(String, clap::Command)>) {
    let page = command
        .clone()
        .name(name.to_string())
        .version(env!("CARGO_PKG_VERSION"));
    out.push((name.to_string(), page));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub, &format!("{name}-{}", sub.get_name()), out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_subcommand_has_a_page() {
        let root = clap::Command::new("bolt")
            .subcommand(clap::Command::new("runs"))
            .subcommand(clap::Command::new("adaptor").subcommand(clap::Command::new("add")));
        let names: Vec<String> = super::pages(root).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["bolt", "bolt-runs", "bolt-adaptor", "bolt-adaptor-add"]
        );
    }
}
