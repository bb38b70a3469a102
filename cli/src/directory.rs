//! Scriptable route calls: `cim login`, `cim users`, `cim groups …`, and the local
//! `cim history`.

use cim_sdk::{Credentials, RouteClient};
use serde_json::json;

use crate::commands::{Account, Failure};
use crate::history::History;

/// Options of `cim login`.
#[derive(clap::Args, Debug)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    account: Account,
    /// Device id the token is bound to.
    #[arg(long, env = "CIM_DEVICE", default_value = "cim-login")]
    device: String,
    /// Print the whole answer (user, token, expiry, assigned server) as JSON.
    #[arg(long)]
    json: bool,
    /// Keep the session, so that send, listen, users and groups of this user need no
    /// password until its token expires (in a file only you can read).
    #[arg(long)]
    save: bool,
}

/// Logs in (or takes the saved session) and returns the route client and the login.
async fn log_in(account: &Account, device: &str) -> Result<(RouteClient, cim_sdk::Login), Failure> {
    let route = RouteClient::new(&account.route)?;
    let (credentials, device) = account.credentials(None, device)?;
    let login = route.login(&credentials, &device).await?;
    Ok((route, login))
}

pub(crate) async fn login(args: LoginArgs) -> Result<(), Failure> {
    // A login, always: the saved session is what this makes, not what it uses.
    let route = RouteClient::new(&args.account.route)?;
    let credentials = Credentials::password(&args.account.user, args.account.password()?);
    let login = route.login(&credentials, &args.device).await?;
    if args.save {
        let path = crate::session::save(&args.account.route, &args.account.user, &args.device, &login)
            .map_err(|message| Failure { exit: 1, message: format!("cannot save the session: {message}") })?;
        eprintln!("session saved in {} until the token expires", path.display());
    }
    if args.json {
        let line = json!({
            "user_id": login.user_id, "user_name": login.user_name, "token": login.token,
            "token_expires_at_ms": login.token_expires_at_ms, "server_id": login.server.server_id,
            "tcp_endpoint": login.server.tcp_endpoint, "ws_url": login.server.ws_url,
        });
        say!("{line}");
    } else {
        say!("{}", login.token);
    }
    Ok(())
}

/// Options of `cim users`.
#[derive(clap::Args, Debug)]
pub(crate) struct UsersArgs {
    #[command(flatten)]
    account: Account,
    /// Only users whose name starts with this.
    #[arg(long, conflicts_with = "online")]
    prefix: Option<String>,
    /// Only users online now (every page).
    #[arg(long)]
    online: bool,
    /// One JSON object per user.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn users(args: UsersArgs) -> Result<(), Failure> {
    let (route, login) = log_in(&args.account, "cim-users").await?;
    let users = if args.online {
        route.all_online_users(&login.token, 500).await?
    } else {
        route.users_by_prefix(&login.token, args.prefix.as_deref().unwrap_or(""), 1000).await?
    };
    for user in users {
        if args.json {
            say!(
                "{}",
                json!({ "user_id": user.user_id, "user_name": user.user_name, "online": user.online })
            );
        } else {
            say!("{}{}", user.user_name, if user.online { " (online)" } else { "" });
        }
    }
    Ok(())
}

/// Options of `cim groups`.
#[derive(clap::Args, Debug)]
pub(crate) struct GroupsArgs {
    #[command(flatten)]
    account: Account,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    action: Option<GroupAction>,
}

#[derive(clap::Subcommand, Debug)]
enum GroupAction {
    /// The groups you are in (the default).
    List,
    /// Create a group with you as its member; others join it themselves (`cim groups join`).
    Create {
        /// Group id.
        group: String,
        /// Other members: refused by the route, which adds nobody without their own call.
        #[arg(hide = true)]
        members: Vec<String>,
    },
    /// Join a group.
    Join {
        /// Group id.
        group: String,
    },
    /// Leave a group.
    Leave {
        /// Group id.
        group: String,
    },
    /// A group's members.
    Members {
        /// Group id.
        group: String,
    },
}

fn group_line(group: &cim_sdk::GroupInfo, json: bool) -> String {
    if json {
        json!({ "group_id": group.group_id, "member_count": group.member_count }).to_string()
    } else {
        let plural = if group.member_count == 1 { "" } else { "s" };
        format!("#{} ({} member{plural})", group.group_id, group.member_count)
    }
}

pub(crate) async fn groups(args: GroupsArgs) -> Result<(), Failure> {
    let (route, login) = log_in(&args.account, "cim-groups").await?;
    let token = &login.token;
    let strip = |group: &str| group.trim_start_matches('#').to_owned();
    match args.action.unwrap_or(GroupAction::List) {
        GroupAction::List => {
            for group in route.my_groups(token).await? {
                say!("{}", group_line(&group, args.json));
            }
        }
        GroupAction::Create { group, members } => {
            say!("{}", group_line(&route.create_group(token, &strip(&group), &members).await?, args.json));
        }
        GroupAction::Join { group } => {
            say!("{}", group_line(&route.join_group(token, &strip(&group)).await?, args.json));
        }
        GroupAction::Leave { group } => {
            say!("{}", group_line(&route.leave_group(token, &strip(&group)).await?, args.json));
        }
        GroupAction::Members { group } => {
            for user in route.group_members(token, &strip(&group)).await? {
                if args.json {
                    say!(
                        "{}",
                        json!({ "user_id": user.user_id, "user_name": user.user_name, "online": user.online })
                    );
                } else {
                    say!("{}{}", user.user_name, if user.online { " (online)" } else { "" });
                }
            }
        }
    }
    Ok(())
}

/// Options of `cim history`.
#[derive(clap::Args, Debug)]
pub(crate) struct HistoryArgs {
    /// Whose history (it is kept per user on this machine by `cim chat`).
    #[arg(long, short, env = "CIM_USER")]
    user: String,
    /// Only messages containing this (ignoring case) in text, sender or recipient.
    #[arg(long)]
    grep: Option<String>,
    /// The stored JSON lines as they are.
    #[arg(long)]
    json: bool,
}

pub(crate) fn history(args: HistoryArgs) -> Result<(), Failure> {
    let history = History::of(&args.user).map_err(|message| Failure { exit: 1, message })?;
    let entries = match &args.grep {
        Some(keyword) => history.search(keyword),
        None => history.read(),
    }
    .map_err(|e| Failure { exit: 1, message: format!("cannot read {}: {e}", history.path().display()) })?;
    for entry in entries {
        if args.json {
            say!("{}", serde_json::to_string(&entry).unwrap_or_default());
        } else {
            say!("{}", crate::history::line(&entry));
        }
    }
    Ok(())
}
