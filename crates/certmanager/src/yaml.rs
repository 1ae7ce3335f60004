//! Turning manifest text into JSON values, one per document, with lines.
//!
//! YAML is parsed by serde_yaml_ng (YAML 1.2, libyaml's parser). Each
//! document is converted to a `serde_json::Value` as Kubernetes does when it
//! converts YAML to JSON: scalar keys become strings and `<<` merge keys are
//! applied. The conversion counts every node it builds and stops when the
//! count passes a budget, so an alias bomb fails fast instead of filling
//! memory.
//!
//! The text is split at `---` and `...` lines before parsing. YAML itself
//! treats those lines as document boundaries wherever they appear at column
//! 0, so splitting first changes no result, and it gives every document
//! and every error its line in the whole file.

use crate::error::LoadError;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

/// Nodes a file may expand to beyond its size in bytes. Without aliases a
/// YAML document cannot have more nodes than bytes, so this is the room left
/// for alias expansion.
pub const ALIAS_EXPANSION_NODES: usize = 200_000;

/// Template markers that show a file was not rendered. The first three make
/// YAML fail when they start a value; `${` parses as a plain string.
const TEMPLATE_MARKERS: &[&str] = &["{{", "{%", "{#", "<%", "${"];

/// One parsed document.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub value: Value,
    /// Line of the document's first content line (1-based).
    pub line: usize,
    /// The document's text and the line it starts on, for locating fields.
    pub lines: DocumentLines<'a>,
}

/// The text of one document with the file line of its first line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocumentLines<'a> {
    pub text: &'a str,
    pub first_line: usize,
}

impl<'a> DocumentLines<'a> {
    /// Finds the line of the field at `path` (keys only; list indexes are
    /// skipped) by searching for each key after the previous one, starting
    /// at file line `start`. Falls back to the last key found, or to `start`.
    pub fn locate(&self, path: &[&str], start: usize) -> usize {
        let lines: Vec<&str> = self.text.lines().collect();
        let mut position = start.saturating_sub(self.first_line).min(lines.len());
        let mut found = None;
        for key in path {
            if let Some(offset) = lines[position..].iter().position(|line| line_has_key(line, key)) {
                position += offset;
                found = Some(position);
            }
        }
        match found {
            Some(index) => self.first_line + index,
            None => start,
        }
    }

    /// Text of the file line `line`, if it belongs to this document.
    pub fn line_text(&self, line: usize) -> Option<&'a str> {
        line.checked_sub(self.first_line).and_then(|index| self.text.lines().nth(index))
    }
}

/// Returns true when `line` has `key` followed by a colon, as a block key,
/// a flow key or a quoted JSON key.
fn line_has_key(line: &str, key: &str) -> bool {
    if key.is_empty() {
        return false;
    }
    let mut search_from = 0;
    while let Some(found) = line[search_from..].find(key) {
        let start = search_from + found;
        let end = start + key.len();
        search_from = start + 1;
        let before = line[..start].chars().next_back();
        let mut after = line[end..].chars();
        let mut next = after.next();
        if matches!(next, Some('"' | '\'')) {
            next = after.next();
        }
        let starts_token = matches!(before, None | Some(' ' | '\t' | '{' | ',' | '-' | '"' | '\''));
        if starts_token && next == Some(':') {
            return true;
        }
    }
    false
}

/// Returns the first template marker in `text`.
pub(crate) fn template_marker(text: &str) -> Option<&'static str> {
    TEMPLATE_MARKERS.iter().copied().find(|marker| text.contains(marker))
}

/// Returns the first marker that breaks YAML syntax (`{{`, `{%`, `{#`, `<%`).
fn breaking_template_marker(text: &str) -> Option<&'static str> {
    TEMPLATE_MARKERS[..4].iter().copied().find(|marker| text.contains(marker))
}

/// Parses every document of a YAML or JSON file.
pub(crate) fn parse_documents<'a>(text: &'a str, file: &str, json_first: bool) -> Result<Vec<Document<'a>>, LoadError> {
    if json_first {
        match parse_json(text, file) {
            Ok(documents) => return Ok(documents),
            Err(error) if file.ends_with(".json") => return Err(error),
            Err(_) => {}
        }
    }
    parse_yaml(text, file)
}

fn parse_json<'a>(text: &'a str, file: &str) -> Result<Vec<Document<'a>>, LoadError> {
    let line_starts = line_starts(text);
    let line_of = |offset: usize| line_starts.partition_point(|start| *start <= offset);
    let whole = DocumentLines { text, first_line: 1 };
    let mut documents = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let skipped = text[stream.byte_offset()..].len() - text[stream.byte_offset()..].trim_start().len();
        let start = stream.byte_offset() + skipped;
        match stream.next() {
            None => break,
            Some(Ok(value)) => documents.push(Document {
                value,
                line: line_of(start),
                lines: whole,
            }),
            Some(Err(error)) => {
                return Err(LoadError::Syntax {
                    file: file.to_string(),
                    line: error.line().max(1),
                    column: error.column(),
                    format: "JSON",
                    message: json_message(&error),
                    template: None,
                })
            }
        }
    }
    Ok(documents)
}

/// The JSON error without serde_json's "at line L column C" suffix, which
/// the caller prints itself.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_string(),
        None => text,
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(index, _)| index + 1))
        .collect()
}

fn parse_yaml<'a>(text: &'a str, file: &str) -> Result<Vec<Document<'a>>, LoadError> {
    let budget = NodeBudget::new(text.len().saturating_add(ALIAS_EXPANSION_NODES));
    let mut documents = Vec::new();
    for chunk in split_documents(text) {
        let Some(content_line) = first_content_line(&chunk) else {
            continue;
        };
        for document in serde_yaml_ng::Deserializer::from_str(chunk.text) {
            let result = NodeSeed { budget: &budget }.deserialize(document);
            match result {
                Ok(value) => documents.push(Document {
                    value,
                    line: content_line,
                    lines: chunk,
                }),
                Err(error) => return Err(yaml_error(&error, &chunk, &budget, file, content_line)),
            }
        }
    }
    Ok(documents)
}

fn yaml_error(
    error: &serde_yaml_ng::Error,
    chunk: &DocumentLines<'_>,
    budget: &NodeBudget,
    file: &str,
    content_line: usize,
) -> LoadError {
    let (line, column) = match error.location() {
        Some(location) => (chunk.first_line + location.line() - 1, location.column()),
        None => (content_line, 0),
    };
    let message = error.to_string();
    if budget.exceeded.get() || message.contains("repetition limit exceeded") {
        return LoadError::AliasBomb {
            file: file.to_string(),
            line: content_line,
            limit: budget.limit,
        };
    }
    let template = chunk
        .line_text(line)
        .and_then(template_marker)
        .or_else(|| breaking_template_marker(chunk.text));
    LoadError::Syntax {
        file: file.to_string(),
        line,
        column,
        format: "YAML",
        message: yaml_message(&message),
        template,
    }
}

/// The YAML error without its marks ("at line L column C", "at position
/// N"). Marks count lines from the start of the document, not of the file,
/// so the caller prints the file line itself.
fn yaml_message(message: &str) -> String {
    let mut result = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" at ") {
        result.push_str(&rest[..start]);
        let after = &rest[start + " at ".len()..];
        match skip_mark(after) {
            Some(tail) => rest = tail,
            None => {
                result.push_str(" at ");
                rest = after;
            }
        }
    }
    result.push_str(rest);
    result
}

/// Returns the text after a leading "line L column C" or "position N".
fn skip_mark(text: &str) -> Option<&str> {
    fn number(text: &str) -> Option<&str> {
        let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        (digits > 0).then(|| &text[digits..])
    }
    if let Some(rest) = text.strip_prefix("line ") {
        let rest = number(rest)?;
        return number(rest.strip_prefix(" column ")?);
    }
    number(text.strip_prefix("position ")?)
}

/// Splits `text` at `---` and after `...` lines at column 0.
fn split_documents(text: &str) -> Vec<DocumentLines<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_number = index + 1;
        if is_marker(line, "---") && offset > start {
            chunks.push(DocumentLines {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset;
            start_line = line_number;
        }
        offset += line.len();
        if is_marker(line, "...") {
            chunks.push(DocumentLines {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset;
            start_line = line_number + 1;
        }
    }
    if offset > start {
        chunks.push(DocumentLines {
            text: &text[start..offset],
            first_line: start_line,
        });
    }
    chunks
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Line of the first line that is not blank, a comment, a directive or a
/// bare `---`; `None` when the chunk holds no document.
fn first_content_line(chunk: &DocumentLines<'_>) -> Option<usize> {
    chunk.text.lines().enumerate().find_map(|(index, line)| {
        let trimmed = line.trim();
        let after_marker = trimmed
            .strip_prefix("---")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        let empty = after_marker.is_empty()
            || after_marker.starts_with('#')
            || trimmed.starts_with('%')
            || trimmed == "...";
        (!empty).then_some(chunk.first_line + index)
    })
}

/// Shared count of the nodes built so far.
struct NodeBudget {
    limit: usize,
    used: Cell<usize>,
    exceeded: Cell<bool>,
}

impl NodeBudget {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            used: Cell::new(0),
            exceeded: Cell::new(false),
        }
    }

    fn take<E: de::Error>(&self) -> Result<(), E> {
        let used = self.used.get() + 1;
        self.used.set(used);
        if used > self.limit {
            self.exceeded.set(true);
            return Err(E::custom("YAML aliases expand to too many nodes"));
        }
        Ok(())
    }
}

/// Deserializes any YAML node into a JSON value, counting nodes.
struct NodeSeed<'b> {
    budget: &'b NodeBudget,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(NodeVisitor { budget: self.budget })
    }
}

struct NodeVisitor<'b> {
    budget: &'b NodeBudget,
}

impl<'de> Visitor<'de> for NodeVisitor<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::from(value))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::String(value.to_string()))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::String(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        self.budget.take()?;
        // JSON has no NaN or infinity; keep YAML's spelling as a string.
        Ok(serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(value.to_string())))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.budget.take()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        NodeSeed { budget: self.budget }.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.budget.take()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed { budget: self.budget })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.budget.take()?;
        let mut object = Map::new();
        let mut merges = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed { budget: self.budget })? {
            let value = map.next_value_seed(NodeSeed { budget: self.budget })?;
            if key == "<<" && matches!(value, Value::Object(_) | Value::Array(_)) {
                merges.push(value);
            } else {
                object.insert(key, value);
            }
        }
        // A merge key adds the keys of the merged mappings that the mapping
        // does not set itself; among merged mappings, the first one wins.
        for merge in merges {
            let sources = match merge {
                Value::Array(items) => items,
                other => vec![other],
            };
            for source in sources {
                let Value::Object(source) = source else {
                    return Err(de::Error::custom("a `<<` merge key must name a mapping or a list of mappings"));
                };
                for (key, value) in source {
                    object.entry(key).or_insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // serde_yaml_ng presents a value with a custom tag (`!Ref x`) as an
        // enum; the tag is dropped and the value kept, as a JSON conversion
        // must do.
        let (_tag, variant): (String, _) = data.variant()?;
        de::VariantAccess::newtype_variant_seed(variant, NodeSeed { budget: self.budget })
    }
}

/// Deserializes a mapping key into a string, as Kubernetes' YAML-to-JSON
/// conversion does for scalar keys.
struct KeySeed<'b> {
    budget: &'b NodeBudget,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        let value = NodeSeed { budget: self.budget }.deserialize(deserializer)?;
        match value {
            Value::String(text) => Ok(text),
            Value::Number(number) => Ok(number.to_string()),
            Value::Bool(flag) => Ok(flag.to_string()),
            Value::Null => Ok("null".to_string()),
            Value::Array(_) | Value::Object(_) => Err(de::Error::custom(
                "a mapping key is itself a list or mapping, which JSON cannot represent",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_lines() {
        let chunks = split_documents("# c\n---\na: 1\n---\nb: 2\n");
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[1].first_line, 2);
        assert_eq!(chunks[2].first_line, 4);
    }

    #[test]
    fn split_ignores_indented_marker() {
        let chunks = split_documents("a: |\n  ---\n  x\n");
        assert_eq!(chunks.len(), 1);
    }

    #[test]
    fn first_content_line_skips_comments() {
        let chunk = DocumentLines {
            text: "---\n# comment\n\napiVersion: v1\n",
            first_line: 10,
        };
        assert_eq!(first_content_line(&chunk), Some(13));
    }

    #[test]
    fn locate_follows_path() {
        let lines = DocumentLines {
            text: "kind: X\nspec:\n  acme:\n    solvers: abc\n",
            first_line: 5,
        };
        assert_eq!(lines.locate(&["spec", "acme", "solvers"], 5), 8);
        assert_eq!(lines.locate(&["spec"], 7), 7);
    }

    #[test]
    fn line_has_key_forms() {
        assert!(line_has_key("  solvers: x", "solvers"));
        assert!(line_has_key("- solvers:", "solvers"));
        assert!(line_has_key(r#"{"solvers": 1}"#, "solvers"));
        assert!(!line_has_key("  mysolvers: x", "solvers"));
        assert!(!line_has_key("  solvers", "solvers"));
    }

    #[test]
    fn merge_key_applies() {
        let docs = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "f.yaml").unwrap();
        assert_eq!(docs[0].value["use"]["x"], 1);
        assert_eq!(docs[0].value["use"]["y"], 3);
    }

    #[test]
    fn yaml_message_strips_location() {
        let message = "did not find expected key at line 3 column 5, while parsing a block mapping";
        assert_eq!(yaml_message(message), "did not find expected key, while parsing a block mapping");
    }
}
