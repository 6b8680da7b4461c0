//! `valence flavor ...`: named requirement sets for `node compose --flavor`.

use clap::{ArgGroup, Args, Subcommand};
use valence_client::types::{Flavor, FlavorCreate};

use super::output::{fields, or_dash, table, time};
use super::requirements::RequirementArgs;
use super::{CliError, Context, PageArgs};

#[derive(Debug, Subcommand)]
pub enum FlavorCommand {
    /// Create a flavor.
    #[command(
        after_help = "Example:\n  valence flavor create small --cores 4 --memory-mib 8192 --disk 100:SSD"
    )]
    Create(CreateArgs),
    /// List flavors.
    #[command(after_help = "Example:\n  valence flavor list")]
    List(ListArgs),
    /// Show one flavor.
    #[command(after_help = "Example:\n  valence flavor show small")]
    Show(IdArg),
    /// Delete a flavor.
    #[command(after_help = "Example:\n  valence flavor delete small")]
    Delete(IdArg),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").args(["cores", "memory_mib", "model", "disk"]).required(true).multiple(true)))]
pub struct CreateArgs {
    /// A unique name.
    pub name: String,
    #[command(flatten)]
    pub requirements: RequirementArgs,
    /// Free text shown with the flavor.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the flavor of this name.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Flavor uuid or name.
    pub flavor: String,
}

pub async fn run(ctx: &Context, command: FlavorCommand) -> Result<(), CliError> {
    match command {
        FlavorCommand::Create(args) => {
            let Some(properties) = args.requirements.requirements() else {
                return Err(CliError::Usage(
                    "a flavor needs at least one of --cores, --memory-mib, --model, --disk"
                        .to_owned(),
                ));
            };
            let body = FlavorCreate {
                name: args.name,
                description: args.description,
                properties,
            };
            let flavor = ctx.client.create_flavor(&body).await?;
            ctx.out.emit(&flavor, |f| detail(f).to_string())
        }
        FlavorCommand::List(args) => {
            let flavors = ctx
                .client
                .list_flavors_page(args.name.as_deref(), &args.page.page())
                .await?;
            ctx.out.emit(&flavors, |flavors| {
                let mut t = table(["UUID", "NAME", "PROPERTIES", "DESCRIPTION"]);
                for f in flavors {
                    t.add_row([
                        f.uuid.clone(),
                        f.name.clone(),
                        properties(f),
                        or_dash(f.description.as_deref()),
                    ]);
                }
                t.to_string()
            })
        }
        FlavorCommand::Show(arg) => {
            let flavor = ctx.client.get_flavor(&arg.flavor).await?;
            ctx.out.emit(&flavor, |f| detail(f).to_string())
        }
        FlavorCommand::Delete(arg) => {
            ctx.client.delete_flavor(&arg.flavor).await?;
            let body = serde_json::json!({"deleted": arg.flavor});
            ctx.out
                .emit(&body, |_| format!("flavor {} deleted", arg.flavor))
        }
    }
}

fn properties(f: &Flavor) -> String {
    serde_json::to_string(&f.properties).unwrap_or_default()
}

fn detail(f: &Flavor) -> comfy_table::Table {
    fields(vec![
        ("uuid", f.uuid.clone()),
        ("name", f.name.clone()),
        ("description", or_dash(f.description.as_deref())),
        ("properties", properties(f)),
        ("created", time(Some(&f.created_at))),
        ("updated", time(Some(&f.updated_at))),
    ])
}
