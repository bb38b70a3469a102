//! Emoji aliases: `:emoji` lists them, and `:alias:` in an outgoing message becomes the emoji.

/// Alias → emoji, in the order `:emoji` lists them.
pub(crate) const ALIASES: &[(&str, &str)] = &[
    ("smile", "😄"),
    ("grin", "😁"),
    ("joy", "😂"),
    ("wink", "😉"),
    ("blush", "😊"),
    ("heart_eyes", "😍"),
    ("kiss", "😘"),
    ("thinking", "🤔"),
    ("neutral", "😐"),
    ("sweat", "😅"),
    ("cry", "😢"),
    ("sob", "😭"),
    ("angry", "😠"),
    ("scream", "😱"),
    ("sleepy", "😪"),
    ("sunglasses", "😎"),
    ("innocent", "😇"),
    ("upside_down", "🙃"),
    ("rolling_eyes", "🙄"),
    ("zipper", "🤐"),
    ("thumbsup", "👍"),
    ("thumbsdown", "👎"),
    ("clap", "👏"),
    ("wave", "👋"),
    ("ok_hand", "👌"),
    ("pray", "🙏"),
    ("muscle", "💪"),
    ("point_up", "☝️"),
    ("raised_hands", "🙌"),
    ("handshake", "🤝"),
    ("heart", "❤️"),
    ("broken_heart", "💔"),
    ("fire", "🔥"),
    ("star", "⭐"),
    ("sparkles", "✨"),
    ("tada", "🎉"),
    ("gift", "🎁"),
    ("cake", "🎂"),
    ("coffee", "☕"),
    ("beer", "🍺"),
    ("pizza", "🍕"),
    ("rocket", "🚀"),
    ("bug", "🐛"),
    ("check", "✅"),
    ("x", "❌"),
    ("warning", "⚠️"),
    ("question", "❓"),
    ("bulb", "💡"),
    ("zzz", "💤"),
    ("100", "💯"),
    ("eyes", "👀"),
    ("see_no_evil", "🙈"),
    ("dog", "🐶"),
    ("cat", "🐱"),
    ("sun", "☀️"),
    ("rain", "🌧️"),
    ("snow", "❄️"),
    ("moon", "🌙"),
    ("earth", "🌍"),
    ("clock", "🕐"),
];

/// Aliases listed per `:emoji` page.
pub(crate) const PAGE_SIZE: usize = 20;

/// How many `:emoji` pages there are.
pub(crate) fn pages() -> usize {
    ALIASES.len().div_ceil(PAGE_SIZE)
}

/// One page (from 1) of `alias emoji` pairs, or `None` past the last.
pub(crate) fn page(number: usize) -> Option<&'static [(&'static str, &'static str)]> {
    let start = number.checked_sub(1)? * PAGE_SIZE;
    (start < ALIASES.len()).then(|| &ALIASES[start..(start + PAGE_SIZE).min(ALIASES.len())])
}

/// Replaces every `:alias:` with its emoji; anything else between colons stays as typed.
pub(crate) fn expand(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let alias = after.find(':').map(|end| &after[..end]);
        match alias.and_then(|alias| ALIASES.iter().find(|(a, _)| *a == alias)) {
            Some((alias, emoji)) => {
                out.push_str(emoji);
                rest = &after[alias.len() + 1..];
            }
            None => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_expand_and_other_colons_stay() {
        assert_eq!(expand("ship it :rocket: :tada:"), "ship it 🚀 🎉");
        assert_eq!(expand("at 10:30: :nope: ok"), "at 10:30: :nope: ok");
        assert_eq!(expand(":smile::wink:"), "😄😉");
        assert_eq!(expand("no colons"), "no colons");
        assert_eq!(expand("trailing :"), "trailing :");
    }

    #[test]
    fn pages_cover_every_alias_once() {
        let listed: usize = (1..=pages()).map(|p| page(p).map_or(0, <[_]>::len)).sum();
        assert_eq!(listed, ALIASES.len());
        assert!(page(0).is_none());
        assert!(page(pages() + 1).is_none());
        let mut names: Vec<&str> = ALIASES.iter().map(|(a, _)| *a).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALIASES.len(), "aliases are unique");
    }
}
