//! The parts of a stream chunk an answer needs, read in place: text is
//! borrowed from the event unless JSON escapes forced a copy, unknown fields
//! (`pad`, …) are skipped without being built, and a list of content parts
//! becomes one text without a list being allocated.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{SeqAccess, Visitor};

/// Text parts (`[{"type": "TEXT", "text": "…"}, …]`) joined: borrowed when
/// there is one part without escapes, which is nearly every delta.
#[derive(Debug, Default)]
pub(crate) struct JoinedText<'a>(pub Option<Cow<'a, str>>);

/// A string borrowed from the event unless escapes forced a copy. (Serde
/// borrows only a bare `Cow<str>` field: `Option<Cow<str>>` would always copy.)
#[derive(Debug, Deserialize)]
pub(crate) struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

#[derive(Deserialize)]
struct TextPart<'a> {
    #[serde(borrow)]
    text: Option<Str<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for JoinedText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Parts;
        impl<'de> Visitor<'de> for Parts {
            type Value = JoinedText<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of content parts")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut joined: Option<Cow<'de, str>> = None;
                while let Some(part) = seq.next_element::<TextPart<'de>>()? {
                    match (part.text.map(|t| t.0).filter(|t| !t.is_empty()), &mut joined) {
                        (Some(text), None) => joined = Some(text),
                        (Some(text), Some(so_far)) => so_far.to_mut().push_str(&text),
                        (None, _) => {}
                    }
                }
                Ok(JoinedText(joined))
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(JoinedText(None))
            }
        }
        deserializer.deserialize_any(Parts)
    }
}

/// Where `part`, borrowed from `data`, lies in it.
pub(crate) fn range_in(data: &str, part: &str) -> Option<std::ops::Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= data.len() && data.is_char_boundary(start) && data.is_char_boundary(end)).then_some(start..end)
}

/// `data` cut down to `range` in place: the event's own buffer becomes the
/// text handed on, so a delta costs no allocation of its own.
pub(crate) fn keep_range(mut data: String, range: std::ops::Range<usize>) -> String {
    data.truncate(range.end);
    data.drain(..range.start);
    data
}

/// Token counts, as the chunk carrying them says.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UsageView {
    #[serde(rename = "promptTokens")]
    pub prompt_tokens: Option<i64>,
    #[serde(rename = "completionTokens")]
    pub completion_tokens: Option<i64>,
    #[serde(rename = "totalTokens")]
    pub total_tokens: Option<i64>,
    #[serde(rename = "completionTokensDetails")]
    pub completion_tokens_details: Option<DetailsView>,
    #[serde(rename = "promptTokensDetails")]
    pub prompt_tokens_details: Option<PromptDetailsView>,
}

/// The cached part of the prompt tokens.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PromptDetailsView {
    #[serde(rename = "cachedTokens")]
    pub cached_tokens: Option<i64>,
}

/// The reasoning part of the completion tokens.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailsView {
    #[serde(rename = "reasoningTokens")]
    pub reasoning_tokens: Option<i64>,
}

impl UsageView {
    pub fn usage(&self) -> crate::types::Usage {
        let reasoning = self.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens);
        let cached = self.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens);
        neutral_usage(self.prompt_tokens, self.completion_tokens, self.total_tokens, reasoning, cached)
    }
}

/// Token counts as the service sends them (signed, optional) to neutral ones.
pub(crate) fn neutral_usage(
    prompt: Option<i64>,
    completion: Option<i64>,
    total: Option<i64>,
    reasoning: Option<i64>,
    cached: Option<i64>,
) -> crate::types::Usage {
    let count = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    crate::types::Usage {
        prompt_tokens: count(prompt),
        completion_tokens: count(completion),
        total_tokens: count(total),
        reasoning_tokens: reasoning.and_then(|v| u64::try_from(v).ok()),
        cached_tokens: cached.and_then(|v| u64::try_from(v).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder<'a> {
        #[serde(borrow, default)]
        content: JoinedText<'a>,
    }

    /// GENERIC usage with cached prompt tokens (`promptTokensDetails.cachedTokens`).
    #[test]
    fn generic_usage_reads_cached_tokens() {
        let view: UsageView = serde_json::from_str(
            r#"{"promptTokens":100,"completionTokens":20,"totalTokens":120,"promptTokensDetails":{"cachedTokens":64}}"#,
        )
        .unwrap();
        let usage = view.usage();
        assert_eq!((usage.cached_tokens, usage.reasoning_tokens, usage.prompt_tokens), (Some(64), None, 100));
        let mut total = usage;
        total.add(&usage);
        assert_eq!(total.cached_tokens, Some(128));
    }

    #[test]
    fn a_borrowed_part_becomes_its_event_buffer() {
        let data = String::from(r#"{"text":"héllo","pad":"a"}"#);
        let part = &data[9..15];
        let range = range_in(&data, part).unwrap();
        let pointer = data.as_ptr();
        let text = keep_range(data, range);
        assert_eq!((text.as_str(), text.as_ptr()), ("héllo", pointer), "the same allocation");
        assert_eq!(range_in("abc", "elsewhere"), None);
    }

    #[test]
    fn one_plain_part_is_borrowed_and_several_are_joined() {
        let one: Holder<'_> = serde_json::from_str(r#"{"content":[{"type":"TEXT","text":"Hel"}]}"#).unwrap();
        assert!(matches!(one.content.0, Some(Cow::Borrowed("Hel"))));
        let escaped: Holder<'_> = serde_json::from_str(r#"{"content":[{"type":"TEXT","text":"a\nb"}]}"#).unwrap();
        assert_eq!(escaped.content.0.as_deref(), Some("a\nb"));
        let many: Holder<'_> =
            serde_json::from_str(r#"{"content":[{"text":"a"},{"type":"IMAGE"},{"text":""},{"text":"b"}]}"#).unwrap();
        assert_eq!(many.content.0.as_deref(), Some("ab"));
        let none: Holder<'_> = serde_json::from_str(r#"{"content":null}"#).unwrap();
        assert!(none.content.0.is_none());
        let absent: Holder<'_> = serde_json::from_str(r#"{}"#).unwrap();
        assert!(absent.content.0.is_none());
    }
}
