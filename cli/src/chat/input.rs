//! What a line typed into `cim chat` means: a message to someone, or a built-in command.
//! Pure, so every form is unit-tested.

use cim_sdk::Target;

/// One typed line, understood.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Input {
    /// Nothing to do (an empty line).
    Nothing,
    /// A message: plain text goes to everyone online, `@name text` or `name;;text` to one
    /// user, `#group text` to a group.
    Message { to: Target, text: String },
    /// `:q!`
    Quit,
    /// `:olu`
    OnlineUsers,
    /// `:all`
    ListCommands,
    /// `:q <keyword>`
    SearchHistory(String),
    /// `:pu <prefix>`
    UsersByPrefix(String),
    /// `:info`
    Info,
    /// `:emoji [page]`
    Emoji(usize),
    /// `:delay <message> <seconds>`: the message as it would be typed.
    Delay { input: Box<Self>, seconds: f64 },
    /// `:join <group>`
    Join(String),
    /// `:leave <group>`
    Leave(String),
    /// `:groups`
    Groups,
    /// `:help [command]`
    Help(Option<String>),
    /// A command used the wrong way: what to type instead.
    Usage(&'static ChatCommand),
    /// `:something` that is not a command.
    Unknown(String),
}

/// A built-in command, for `:all` and `:help`.
#[derive(Debug, PartialEq)]
pub(crate) struct ChatCommand {
    /// How it is typed.
    pub(crate) usage: &'static str,
    /// What it does.
    pub(crate) help: &'static str,
}

/// Every built-in command, in the order `:all` lists them.
pub(crate) const COMMANDS: &[ChatCommand] = &[
    ChatCommand { usage: ":q!", help: "quit" },
    ChatCommand { usage: ":all", help: "list the commands" },
    ChatCommand { usage: ":help <command>", help: "explain one command (:help delay)" },
    ChatCommand { usage: ":olu", help: "online users" },
    ChatCommand { usage: ":pu <prefix>", help: "users whose name starts with <prefix>" },
    ChatCommand { usage: ":q <keyword>", help: "search this user's local chat history" },
    ChatCommand { usage: ":info", help: "user, server, transport, connection state and round-trip time" },
    ChatCommand { usage: ":emoji [page]", help: "emoji aliases; :alias: in a message becomes the emoji" },
    ChatCommand { usage: ":delay <message> <seconds>", help: "send <message> (any form) after <seconds>" },
    ChatCommand { usage: ":groups", help: "the groups you are in" },
    ChatCommand { usage: ":join <group>", help: "join a group" },
    ChatCommand { usage: ":leave <group>", help: "leave a group" },
];

/// The forms of a message, shown with `:all`.
pub(crate) const MESSAGE_FORMS: &str = "\
text            to everyone online
@name text      to one user (also: name;;text)
#group text     to a group";

fn command(name: &str) -> &'static ChatCommand {
    COMMANDS.iter().find(|c| c.usage.split_whitespace().next() == Some(name)).unwrap_or(&COMMANDS[0])
}

/// Finds a command by name, with or without the colon.
pub(crate) fn find_command(name: &str) -> Option<&'static ChatCommand> {
    let name = if name.starts_with(':') { name.to_owned() } else { format!(":{name}") };
    COMMANDS.iter().find(|c| c.usage.split_whitespace().next() == Some(name.as_str()))
}

/// Understands one line.
pub(crate) fn parse(line: &str) -> Input {
    let line = line.trim();
    if line.is_empty() {
        return Input::Nothing;
    }
    if line.starts_with(':') && !line.starts_with("::") {
        return parse_command(line);
    }
    parse_message(line)
}

fn parse_message(line: &str) -> Input {
    let (to, text) = if let Some(rest) = line.strip_prefix('@') {
        let (name, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        (Target::User(name.to_owned()), text.trim())
    } else if let Some(rest) = line.strip_prefix('#') {
        let (group, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        (Target::Group(group.to_owned()), text.trim())
    } else if let Some((name, text)) = line.split_once(";;").filter(|(n, _)| is_name(n)) {
        (Target::User(name.to_owned()), text.trim())
    } else {
        (Target::Everyone, line)
    };
    match &to {
        Target::User(id) | Target::Group(id) if id.is_empty() || text.is_empty() => {
            Input::Usage(if matches!(to, Target::User(_)) { &MESSAGE_TO_USER } else { &MESSAGE_TO_GROUP })
        }
        _ => Input::Message { to, text: text.to_owned() },
    }
}

/// The old client's `userId;;text`: the part before `;;` must look like a user name.
fn is_name(candidate: &str) -> bool {
    !candidate.is_empty() && !candidate.contains(char::is_whitespace)
}

static MESSAGE_TO_USER: ChatCommand = ChatCommand { usage: "@name text", help: "a message to one user" };
static MESSAGE_TO_GROUP: ChatCommand = ChatCommand { usage: "#group text", help: "a message to a group" };

fn parse_command(line: &str) -> Input {
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let needs_argument = |make: fn(String) -> Input| {
        if rest.is_empty() { Input::Usage(command(name)) } else { make(rest.to_owned()) }
    };
    match name {
        ":q!" => Input::Quit,
        ":olu" => Input::OnlineUsers,
        ":all" => Input::ListCommands,
        ":info" => Input::Info,
        ":groups" => Input::Groups,
        ":q" => needs_argument(Input::SearchHistory),
        ":pu" => needs_argument(Input::UsersByPrefix),
        ":join" => needs_argument(|g| Input::Join(g.trim_start_matches('#').to_owned())),
        ":leave" => needs_argument(|g| Input::Leave(g.trim_start_matches('#').to_owned())),
        ":help" => Input::Help((!rest.is_empty()).then(|| rest.to_owned())),
        ":emoji" => match rest {
            "" => Input::Emoji(1),
            page => page
                .parse::<usize>()
                .ok()
                .filter(|p| *p > 0)
                .map_or(Input::Usage(command(name)), Input::Emoji),
        },
        ":delay" => parse_delay(rest),
        other => Input::Unknown(other.to_owned()),
    }
}

fn parse_delay(rest: &str) -> Input {
    let usage = Input::Usage(command(":delay"));
    let Some((message, seconds)) = rest.rsplit_once(char::is_whitespace) else { return usage };
    let Ok(seconds) = seconds.parse::<f64>() else { return usage };
    if !(0.0..=86_400.0).contains(&seconds) {
        return usage;
    }
    match parse_message(message.trim()) {
        message @ Input::Message { .. } => Input::Delay { input: Box::new(message), seconds },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_user(user: &str, text: &str) -> Input {
        Input::Message { to: Target::User(user.into()), text: text.into() }
    }

    #[test]
    fn messages_take_the_old_and_the_new_forms() {
        assert_eq!(parse("hello all"), Input::Message { to: Target::Everyone, text: "hello all".into() });
        assert_eq!(parse("@bob hi there"), to_user("bob", "hi there"));
        assert_eq!(parse("bob;;hi there"), to_user("bob", "hi there"));
        assert_eq!(
            parse("#team  standup"),
            Input::Message { to: Target::Group("team".into()), text: "standup".into() }
        );
        // `;;` after a space is just text, as is a lone colon-pair.
        assert_eq!(
            parse("see you;;later"),
            Input::Message { to: Target::Everyone, text: "see you;;later".into() }
        );
        assert_eq!(parse("::)"), Input::Message { to: Target::Everyone, text: "::)".into() });
        assert_eq!(parse("   "), Input::Nothing);
    }

    #[test]
    fn incomplete_messages_explain_themselves() {
        assert!(matches!(parse("@bob"), Input::Usage(c) if c.usage == "@name text"));
        assert!(matches!(parse("#team"), Input::Usage(c) if c.usage == "#group text"));
        assert!(matches!(parse("@ hi"), Input::Usage(_)));
    }

    #[test]
    fn every_built_in_command_parses() {
        assert_eq!(parse(":q!"), Input::Quit);
        assert_eq!(parse(":olu"), Input::OnlineUsers);
        assert_eq!(parse(":all"), Input::ListCommands);
        assert_eq!(parse(":q lunch"), Input::SearchHistory("lunch".into()));
        assert_eq!(parse(":pu al"), Input::UsersByPrefix("al".into()));
        assert_eq!(parse(":info"), Input::Info);
        assert_eq!(parse(":emoji"), Input::Emoji(1));
        assert_eq!(parse(":emoji 2"), Input::Emoji(2));
        assert_eq!(parse(":join #team"), Input::Join("team".into()));
        assert_eq!(parse(":leave team"), Input::Leave("team".into()));
        assert_eq!(parse(":groups"), Input::Groups);
        assert_eq!(parse(":help"), Input::Help(None));
        assert_eq!(parse(":help delay"), Input::Help(Some("delay".into())));
        assert_eq!(
            parse(":delay @bob see you 2.5"),
            Input::Delay { input: Box::new(to_user("bob", "see you")), seconds: 2.5 }
        );
        assert_eq!(parse(":nope"), Input::Unknown(":nope".into()));
    }

    #[test]
    fn commands_missing_their_argument_show_their_usage() {
        for line in [":q", ":pu", ":join", ":leave", ":delay", ":delay soon", ":delay hi -1", ":emoji zero"] {
            assert!(matches!(parse(line), Input::Usage(_)), "{line}");
        }
        assert!(matches!(parse(":pu"), Input::Usage(c) if c.usage == ":pu <prefix>"));
    }

    #[test]
    fn commands_are_found_with_or_without_the_colon() {
        assert_eq!(find_command("delay").map(|c| c.usage), Some(":delay <message> <seconds>"));
        assert_eq!(find_command(":olu").map(|c| c.usage), Some(":olu"));
        assert!(find_command("nope").is_none());
    }
}
