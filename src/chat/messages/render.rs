//! A message's Markdown turned into the HTML every client shows, once, when it is sent or
//! edited (ADR 23): pulldown-cmark renders it, ammonia keeps only the tags it produces.
//!
//! - Raw HTML in the body is shown as text, never passed through; ammonia's allow-list is
//!   the second fence.
//! - Links keep only `http`, `https` and `mailto` targets and get
//!   `rel="noopener noreferrer nofollow"`; an image becomes a link to it (no remote image
//!   is ever loaded: no tracking pixels).
//! - `<@USER_ID>` becomes `<span class="mention" data-user-id="…"></span>` when that person
//!   is in the room (anyone else's token stays as typed), and `@room` becomes
//!   `<span class="mention">@room</span>`. A person's span is kept empty and filled with
//!   their current name when read ([`with_names`]), so a renamed person shows their new name
//!   without rendering anything again.
//! - `#123` becomes `<span class="conversation-ref" data-conversation-id="123">#123</span>`,
//!   and it and an address of a conversation of the account's Chatwoot (which stays as
//!   written) refer to that conversation ([`super::refs`]; ADR 26).
//! - A single line break is a line break (chat, not prose).

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use ammonia::UrlRelative;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use uuid::Uuid;

use super::refs;
use crate::platform::text::escape_html;

/// A stored person mention, up to its id.
const MENTION_OPEN: &str = "<span class=\"mention\" data-user-id=\"";
/// What follows the id in a stored mention: the name goes between the two tags.
const MENTION_CLOSE: &str = "\"></span>";
const ROOM_MENTION: &str = "<span class=\"mention\">@room</span>";
const CONVERSATION_OPEN: &str = "<span class=\"conversation-ref\" data-conversation-id=\"";
/// `<@` + a hyphenated UUID + `>`.
const TOKEN_LEN: usize = 39;
const UUID_LEN: usize = 36;

/// What a body turned into.
#[derive(Debug, PartialEq)]
pub struct Rendered {
    /// Sanitised HTML with empty person mentions (see [`with_names`]).
    pub html: String,
    /// The people mentioned (room members only), in order, once each.
    pub mentions: Vec<Uuid>,
    /// `@room` appears outside code.
    pub room: bool,
    /// The Chatwoot conversations referred to outside code, in order, once each, at most
    /// [`refs::MAX`].
    pub conversations: Vec<i64>,
}

/// Every tag the Markdown renderer may produce here (no images, tables or raw HTML).
const TAGS: [&str; 20] = [
    "p",
    "br",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "span",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(TAGS))
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("ol", HashSet::from(["start"])),
            (
                "span",
                HashSet::from(["data-user-id", "data-conversation-id"]),
            ),
        ]))
        .allowed_classes(HashMap::from([(
            "span",
            HashSet::from(["mention", "conversation-ref"]),
        )]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"));
    builder
});

/// The ids a body's `<@…>` tokens name, code included: whom to look up before rendering.
pub fn candidates(body: &str) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for piece in pieces(body, &[]) {
        if let Piece::Person(id) = piece
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

/// Renders `body`; `members` are the room's people among its [`candidates`], `addresses`
/// where the account's conversations open in Chatwoot (up to their number).
pub fn render(body: &str, members: &HashSet<Uuid>, addresses: &[String]) -> Rendered {
    let mut out = Renderer {
        members,
        addresses,
        events: Vec::new(),
        text: String::new(),
        in_code: false,
        images: Vec::new(),
        mentions: Vec::new(),
        room: false,
        conversations: Vec::new(),
    };
    for event in Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH) {
        out.push(event);
    }
    out.flush();
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, out.events.into_iter());
    Rendered {
        html: SANITIZER.clean(&html).to_string(),
        mentions: out.mentions,
        room: out.room,
        conversations: out.conversations,
    }
}

struct Renderer<'a, 'm> {
    members: &'m HashSet<Uuid>,
    addresses: &'m [String],
    events: Vec<Event<'a>>,
    /// Text not yet emitted: the parser splits a run of text at `<`, `@`, `*`…, and a token
    /// is looked for in the whole run.
    text: String,
    in_code: bool,
    /// For each image open now: its target, and whether it had any text.
    images: Vec<(CowStr<'a>, bool)>,
    mentions: Vec<Uuid>,
    room: bool,
    conversations: Vec<i64>,
}

impl<'a> Renderer<'a, '_> {
    fn push(&mut self, event: Event<'a>) {
        let event = match event {
            // Raw HTML is text like any other.
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                self.text.push_str(&text);
                return;
            }
            event => event,
        };
        self.flush();
        let event = match event {
            Event::SoftBreak => Event::HardBreak,
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            Event::Start(Tag::CodeBlock(kind)) => {
                self.in_code = true;
                Event::Start(Tag::CodeBlock(kind))
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                Event::End(TagEnd::CodeBlock)
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                self.images.push((dest_url.clone(), false));
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            Event::End(TagEnd::Image) => {
                // An image without a description links with its address as the text.
                if let Some((url, false)) = self.images.pop() {
                    self.events.push(Event::Text(url));
                }
                Event::End(TagEnd::Link)
            }
            event => event,
        };
        if let Event::Start(Tag::Link { dest_url, .. }) = &event
            && let Some((number, _)) = refs::address_at(dest_url, 0, self.addresses)
        {
            self.refer(number);
        }
        self.events.push(event);
    }

    /// Records a reference to conversation `number`; `false` when the message already
    /// refers to [`refs::MAX`] others.
    fn refer(&mut self, number: i64) -> bool {
        if self.conversations.contains(&number) {
            return true;
        }
        if self.conversations.len() == refs::MAX {
            return false;
        }
        self.conversations.push(number);
        true
    }

    fn flush(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        if let Some((_, had_text)) = self.images.last_mut() {
            *had_text = true;
        }
        if self.in_code {
            self.events.push(Event::Text(text.into()));
            return;
        }
        for piece in pieces(&text, self.addresses) {
            let event = match piece {
                Piece::Text(text) => Event::Text(text.to_string().into()),
                Piece::Person(id) if self.members.contains(&id) => {
                    if !self.mentions.contains(&id) {
                        self.mentions.push(id);
                    }
                    Event::InlineHtml(format!("{MENTION_OPEN}{id}{MENTION_CLOSE}").into())
                }
                Piece::Person(id) => Event::Text(format!("<@{id}>").into()),
                Piece::Room => {
                    self.room = true;
                    Event::InlineHtml(ROOM_MENTION.into())
                }
                Piece::Conversation(number) if self.refer(number) => Event::InlineHtml(
                    format!("{CONVERSATION_OPEN}{number}\">#{number}</span>").into(),
                ),
                Piece::Conversation(number) => Event::Text(format!("#{number}").into()),
                Piece::Address(text, number) => {
                    self.refer(number);
                    Event::Text(text.to_string().into())
                }
            };
            self.events.push(event);
        }
    }
}

#[derive(Debug, PartialEq)]
enum Piece<'t> {
    Text(&'t str),
    Person(Uuid),
    Room,
    /// `#123`.
    Conversation(i64),
    /// An address of a conversation, up to its number (shown as written).
    Address(&'t str, i64),
}

/// `text` cut at its mention tokens and conversation references.
fn pieces<'t>(text: &'t str, addresses: &[String]) -> Vec<Piece<'t>> {
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    let bytes = text.as_bytes();
    while i < bytes.len() {
        // Both tokens start with an ASCII byte, so `i` is a character boundary there.
        let (piece, len) = match bytes[i] {
            b'<' => match person_token(&text[i..]) {
                Some(id) => (Piece::Person(id), TOKEN_LEN),
                None => {
                    i += 1;
                    continue;
                }
            },
            b'@' if room_token(text, i) => (Piece::Room, "@room".len()),
            b'#' => match refs::hash_token(text, i) {
                Some((number, len)) => (Piece::Conversation(number), len),
                None => {
                    i += 1;
                    continue;
                }
            },
            b'h' | b'H' => match refs::address_at(text, i, addresses) {
                Some((number, len)) => (Piece::Address(&text[i..i + len], number), len),
                None => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        if start < i {
            out.push(Piece::Text(&text[start..i]));
        }
        out.push(piece);
        i += len;
        start = i;
    }
    if start < text.len() {
        out.push(Piece::Text(&text[start..]));
    }
    out
}

/// The id of a `<@USER_ID>` token at the start of `rest` (the hyphenated form only).
fn person_token(rest: &str) -> Option<Uuid> {
    let id = rest
        .get(..TOKEN_LEN)?
        .strip_prefix("<@")?
        .strip_suffix('>')?;
    (id.len() == UUID_LEN)
        .then(|| Uuid::try_parse(id).ok())
        .flatten()
}

/// `@room` at `i`, as a word of its own (not `me@room.io`, not `@rooms`).
fn room_token(text: &str, i: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '.');
    text[i..].starts_with("@room")
        && text[..i].chars().next_back().is_none_or(|c| !word(c))
        && text[i + 5..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-')))
}

/// The people a stored `html` mentions, in order, once each.
pub fn mentioned(html: &str) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for (id, _) in mention_spans(html) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Each stored person mention of `html`: its id and where its name goes.
fn mention_spans(html: &str) -> impl Iterator<Item = (Uuid, usize)> + '_ {
    html.match_indices(MENTION_OPEN).filter_map(|(at, _)| {
        let from = at + MENTION_OPEN.len();
        let id = html.get(from..from + UUID_LEN)?;
        let rest = &html[from + UUID_LEN..];
        rest.starts_with(MENTION_CLOSE)
            .then(|| Uuid::try_parse(id).ok())
            .flatten()
            .map(|id| (id, from + UUID_LEN + "\">".len()))
    })
}

/// `html` with each person mention showing `@` and their name (`@unknown` for someone no
/// longer in the account), escaped.
pub fn with_names(html: &str, names: &HashMap<Uuid, String>) -> String {
    let mut out = String::with_capacity(html.len() + 32);
    let mut copied = 0;
    for (id, at) in mention_spans(html) {
        out.push_str(&html[copied..at]);
        out.push('@');
        out.push_str(&escape_html(
            names.get(&id).map_or("unknown", String::as_str),
        ));
        copied = at;
    }
    out.push_str(&html[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    const BIA: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);

    fn plain(body: &str) -> String {
        render(body, &HashSet::new(), &[]).html
    }

    fn members() -> HashSet<Uuid> {
        HashSet::from([ANA])
    }

    /// Only the tags and attributes the renderer makes: no tag, attribute or link scheme
    /// that could run or load anything (text may say what it likes: it is escaped).
    fn assert_inert(html: &str) {
        for tag in html.split('<').skip(1) {
            let tag = &tag[..tag
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag in {html}"))];
            let tag = tag.strip_prefix('/').unwrap_or(tag);
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            assert!(TAGS.contains(&name), "<{name}> in {html}");
            while !attrs.is_empty() {
                let (attr, rest) = attrs.split_once("=\"").unwrap_or_else(|| panic!("{html}"));
                let (value, rest) = rest.split_once('"').unwrap_or_else(|| panic!("{html}"));
                let ok = match (name, attr) {
                    ("a", "href") => ["http://", "https://", "mailto:"]
                        .iter()
                        .any(|s| value.starts_with(s)),
                    ("a", "rel") => value == "noopener noreferrer nofollow",
                    ("span", "class") => value == "mention" || value == "conversation-ref",
                    ("span", "data-user-id") => Uuid::try_parse(value).is_ok(),
                    ("span", "data-conversation-id") => {
                        !value.is_empty() && value.chars().all(|c| c.is_ascii_digit())
                    }
                    ("ol", "start") => value.chars().all(|c| c.is_ascii_digit()),
                    _ => false,
                };
                assert!(ok, "{attr}={value:?} on <{name}> in {html}");
                attrs = rest.trim_start();
            }
        }
    }

    #[test]
    fn markdown_renders() {
        assert_eq!(
            plain("**bold** _it_ ~~no~~ `x`"),
            "<p><strong>bold</strong> <em>it</em> <del>no</del> <code>x</code></p>\n"
        );
        assert_eq!(plain("one\ntwo"), "<p>one<br>\ntwo</p>\n");
        assert_eq!(
            plain("```rust\nlet a = 1;\n```"),
            "<pre><code>let a = 1;\n</code></pre>\n"
        );
        assert_eq!(
            plain("> quoted"),
            "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
        );
        assert_eq!(
            plain("3. c\n4. d"),
            "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>\n"
        );
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        for body in [
            "<script>alert(1)</script>",
            "hi <img src=x onerror=alert(1)>",
            "<div onclick=\"x()\">click</div>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg/onload=alert(1)>",
            "<iframe src=https://evil.test></iframe>",
            "<style>body{display:none}</style>",
            "<!-- comment --><b style=\"color:red\">x</b>",
        ] {
            let html = plain(body);
            assert_inert(&html);
            assert!(html.contains("&lt;"), "{body}: {html}");
        }
        assert_eq!(
            plain("<script>alert(1)</script>"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
        );
    }

    #[test]
    fn links_keep_only_safe_schemes() {
        assert_eq!(
            plain("[site](https://example.test/a?b=1&c=2)"),
            "<p><a href=\"https://example.test/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\">site</a></p>\n"
        );
        assert_eq!(
            plain("<mailto:ana@example.test>"),
            "<p><a href=\"mailto:ana@example.test\" rel=\"noopener noreferrer nofollow\">mailto:ana@example.test</a></p>\n"
        );
        for body in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "[x](/relative/path)",
            "[x](//evil.test/x)",
            "<javascript:alert(1)>",
            "[x]: javascript:alert(1)\n\n[y][x]",
        ] {
            let html = plain(body);
            assert_inert(&html);
            assert!(!html.contains("href"), "{body}: {html}");
        }
        // A title cannot carry an attribute out.
        let html = plain("[x](https://a.test \"t\\\" onmouseover=\\\"alert(1)\")");
        assert_inert(&html);
        assert!(!html.contains("title"), "{html}");
    }

    #[test]
    fn an_image_is_a_link_never_loaded() {
        assert_eq!(
            plain("![pixel](https://tracker.test/p.gif)"),
            "<p><a href=\"https://tracker.test/p.gif\" rel=\"noopener noreferrer nofollow\">pixel</a></p>\n"
        );
        assert_eq!(
            plain("![](https://tracker.test/p.gif)"),
            "<p><a href=\"https://tracker.test/p.gif\" rel=\"noopener noreferrer nofollow\">https://tracker.test/p.gif</a></p>\n"
        );
        let html = plain("![x](javascript:alert(1)) ![y](data:image/png;base64,AAAA)");
        assert_inert(&html);
    }

    #[test]
    fn members_are_mentioned_and_others_stay_as_typed() {
        let out = render(
            &format!("hi <@{ANA}> and <@{BIA}>, <@{ANA}>"),
            &members(),
            &[],
        );
        assert_eq!(
            out.html,
            format!(
                "<p>hi <span class=\"mention\" data-user-id=\"{ANA}\"></span> and &lt;@{BIA}&gt;, \
                 <span class=\"mention\" data-user-id=\"{ANA}\"></span></p>\n"
            )
        );
        assert_eq!(out.mentions, vec![ANA]);
        assert!(!out.room);
        assert_eq!(
            candidates(&format!("<@{BIA}> <@{ANA}> <@{BIA}>")),
            vec![BIA, ANA]
        );
        // Inside emphasis and links too; not in code.
        let out = render(&format!("**<@{ANA}>** `<@{ANA}>`"), &members(), &[]);
        assert_eq!(out.mentions, vec![ANA]);
        assert_eq!(out.html.matches(MENTION_OPEN).count(), 1);
        let out = render(&format!("```\n<@{ANA}> @room\n```"), &members(), &[]);
        assert_eq!((out.mentions, out.room), (vec![], false));
    }

    #[test]
    fn only_exact_tokens_mention() {
        for body in [
            format!("<@{}>", ANA.simple()),
            format!("<@ {ANA}>"),
            format!("<@{ANA}"),
            format!("<@{{{ANA}}}>"),
            format!("@{ANA}"),
            "<@admin>".to_string(),
            "@Ana".to_string(),
        ] {
            let out = render(&body, &members(), &[]);
            assert!(out.mentions.is_empty(), "{body}: {out:?}");
            assert!(!out.html.contains("mention"), "{body}: {}", out.html);
        }
        for (body, room) in [
            ("@room", true),
            ("hey @room!", true),
            ("(@room)", true),
            ("**@room**", true),
            ("@rooms", false),
            ("@room_1", false),
            ("me@room.io", false),
            ("@Room", false),
            ("`@room`", false),
        ] {
            let out = render(body, &HashSet::new(), &[]);
            assert_eq!(out.room, room, "{body}: {}", out.html);
            assert_eq!(out.html.contains(ROOM_MENTION), room, "{body}");
        }
    }

    #[test]
    fn mention_tokens_carrying_html_stay_text() {
        for body in [
            "<@<script>alert(1)</script>>".to_string(),
            format!("<@{ANA}\"><img src=x onerror=alert(1)>>"),
            format!("<span class=\"mention\" data-user-id=\"{ANA}\"></span>"),
            "<@\" onmouseover=\"alert(1)>".to_string(),
        ] {
            let out = render(&body, &members(), &[]);
            assert_inert(&out.html);
            assert!(out.mentions.is_empty(), "{body}: {out:?}");
            assert!(mentioned(&out.html).is_empty(), "{body}: {}", out.html);
        }
    }

    #[test]
    fn names_are_filled_in_escaped() {
        let out = render(
            &format!("<@{ANA}> <@{BIA}>"),
            &HashSet::from([ANA, BIA]),
            &[],
        );
        assert_eq!(mentioned(&out.html), vec![ANA, BIA]);
        let names = HashMap::from([(ANA, "<img src=x onerror=alert(1)> & \"Ana\"".to_string())]);
        let html = with_names(&out.html, &names);
        assert_eq!(
            html,
            format!(
                "<p><span class=\"mention\" data-user-id=\"{ANA}\">@&lt;img src=x onerror=alert(1)&gt; \
                 &amp; &quot;Ana&quot;</span> <span class=\"mention\" data-user-id=\"{BIA}\">@unknown</span></p>\n"
            )
        );
        assert_inert(&html);
        assert_eq!(with_names("<p>plain</p>", &names), "<p>plain</p>");
    }

    const OURS: &str = "https://chat.example.com/app/accounts/7/conversations/";

    fn referring(body: &str) -> Rendered {
        let out = render(body, &HashSet::new(), &[OURS.to_string()]);
        assert_inert(&out.html);
        out
    }

    fn card(number: i64) -> String {
        format!(
            "<span class=\"conversation-ref\" data-conversation-id=\"{number}\">#{number}</span>"
        )
    }

    #[test]
    fn a_hash_number_refers_to_a_conversation() {
        let out = referring("see #123 and #45, then #123 again");
        assert_eq!(out.conversations, vec![123, 45]);
        assert_eq!(
            out.html,
            format!(
                "<p>see {} and {}, then {} again</p>\n",
                card(123),
                card(45),
                card(123)
            )
        );
        let out = referring("**#8** [#9](https://a.test) _x_#10");
        assert_eq!(out.conversations, vec![8, 9, 10]);
        for body in [
            "`#12`",
            "```\n#12\n```",
            "    #12",
            "issue#12",
            "&#12;",
            "#012",
            "https://a.test/#12",
        ] {
            let out = referring(body);
            assert!(out.conversations.is_empty(), "{body}: {out:?}");
            assert!(
                !out.html.contains("conversation-ref"),
                "{body}: {}",
                out.html
            );
        }
    }

    #[test]
    fn an_address_of_the_accounts_chatwoot_refers_and_stays_as_written() {
        let pasted = format!("look {OURS}15?x=1 please");
        let out = referring(&pasted);
        assert_eq!(out.conversations, vec![15]);
        assert_eq!(out.html, format!("<p>look {OURS}15?x=1 please</p>\n"));
        let out = referring(&format!("[the chat]({OURS}16/) and <{OURS}17> then #2"));
        assert_eq!(out.conversations, vec![16, 17, 2]);
        assert!(
            out.html.contains(&format!("href=\"{OURS}16/\"")),
            "{}",
            out.html
        );
        for body in [
            "https://chat.example.com/app/accounts/8/conversations/15".to_string(),
            "[x](https://evil.test/app/accounts/7/conversations/15)".to_string(),
            format!("`{OURS}15`"),
            format!("[x](https://evil.test/?next={OURS}15)"),
        ] {
            let out = referring(&body);
            assert!(out.conversations.is_empty(), "{body}: {out:?}");
        }
        // Without a linked Chatwoot, only `#123` refers.
        let out = render(&format!("{OURS}15 #3"), &HashSet::new(), &[]);
        assert_eq!(out.conversations, vec![3]);
    }

    #[test]
    fn at_most_ten_conversations_are_referred_to() {
        let body: Vec<String> = (1..=12).map(|n| format!("#{n}")).collect();
        let out = referring(&format!("{} #1 {OURS}13", body.join(" ")));
        assert_eq!(out.conversations, (1..=10).collect::<Vec<_>>());
        assert!(out.html.contains(&card(10)), "{}", out.html);
        assert!(out.html.contains(" #11 #12 "), "plain text: {}", out.html);
        assert_eq!(out.html.matches("conversation-ref").count(), 11, "#1 twice");
    }

    #[test]
    fn a_reference_typed_as_html_stays_text() {
        for body in [
            "<span class=\"conversation-ref\" data-conversation-id=\"999\">x</span>",
            "<span class=conversation-ref data-conversation-id=1>x</span>",
            "<p><span data-conversation-id=\"5\" onclick=\"x()\">y</span></p>",
        ] {
            let out = referring(body);
            assert!(out.conversations.is_empty(), "{body}: {out:?}");
            assert!(out.html.contains("&lt;span"), "{body}: {}", out.html);
            assert!(!out.html.contains("<span"), "{body}: {}", out.html);
        }
        // The `#5` inside such text is a reference like any other, and the only element.
        let out = referring("<span data-conversation-id=\"9\">#5</span>");
        assert_eq!(out.conversations, vec![5]);
        assert_eq!(out.html.matches("<span").count(), 1, "{}", out.html);
        assert!(out.html.contains(&card(5)), "{}", out.html);
    }
}
