//! Turning manifest text into JSON values, one per document, with the line
//! of every node.
//!
//! YAML is read with yaml-rust2's event parser (YAML 1.2) and converted to
//! `serde_json::Value` as Kubernetes converts YAML to JSON: plain scalars
//! resolve by the YAML 1.2 core schema, scalar keys become strings, and `<<`
//! merge keys are applied. An alias refers to the most recent node with its
//! anchor, so a redefined anchor works as YAML specifies.
//!
//! Every node the conversion builds, including the copies made for aliases,
//! is counted against a budget, so an alias bomb fails fast instead of
//! filling memory.
//!
//! serde_yaml_ng is not used for reading: its 0.10.0 loader numbers anchors
//! by the count of distinct names, so after a redefined anchor a later
//! anchor reuses an id and earlier aliases resolve to the wrong node.

use crate::error::LoadError;
use serde_json::{Map, Number, Value};
use std::collections::{BTreeMap, HashMap};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Nodes a file may expand to beyond its size in bytes. Without aliases a
/// YAML document has no more nodes than bytes, so this is the room left for
/// alias expansion.
pub const ALIAS_EXPANSION_NODES: usize = 200_000;

/// Deepest nesting of lists and mappings accepted. Kubernetes objects nest
/// far less; the limit keeps recursive code that walks values (including
/// dropping them) within the stack.
pub const MAX_NESTING: usize = 128;

/// Deepest node whose line is recorded. Every field the tool reads sits
/// above it, and skipping deeper nodes keeps the line table small for large
/// documents.
const MAX_RECORDED_DEPTH: usize = 12;

/// Template markers that show a file was not rendered. The first four make
/// YAML fail when they start a value; `${` parses as a plain string.
const TEMPLATE_MARKERS: &[&str] = &["{{", "{%", "{#", "<%", "${"];

/// One parsed document.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub value: Value,
    /// Line of the document's first node (1-based).
    pub line: usize,
    pub lines: LineMap<'a>,
}

/// Lines of the nodes of one document, by JSON pointer (`/spec/acme`), and
/// the text of the whole file for template hints.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineMap<'a> {
    lines: HashMap<String, usize>,
    text: &'a str,
}

impl<'a> LineMap<'a> {
    /// Line of the node at `pointer`, or of its nearest ancestor that has one.
    pub fn locate(&self, pointer: &str) -> Option<usize> {
        let mut pointer = pointer;
        loop {
            if let Some(line) = self.lines.get(pointer) {
                return Some(*line);
            }
            let (parent, _) = pointer.rsplit_once('/')?;
            pointer = parent;
        }
    }

    /// Text of the file line `line` (1-based).
    pub fn line_text(&self, line: usize) -> Option<&'a str> {
        line.checked_sub(1)
            .and_then(|index| self.text.lines().nth(index))
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub(crate) fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Returns the first template marker in `text`.
pub(crate) fn template_marker(text: &str) -> Option<&'static str> {
    TEMPLATE_MARKERS
        .iter()
        .copied()
        .find(|marker| text.contains(marker))
}

/// Returns the first marker that breaks YAML syntax (`{{`, `{%`, `{#`, `<%`).
fn breaking_template_marker(text: &str) -> Option<&'static str> {
    TEMPLATE_MARKERS[..4]
        .iter()
        .copied()
        .find(|marker| text.contains(marker))
}

/// Parses every document of a YAML or JSON file.
///
/// Text that starts with `{` is read as JSON first, as kubectl does; a
/// `.json` file that is not valid JSON fails with JSON's error.
pub(crate) fn parse_documents<'a>(
    text: &'a str,
    file: &str,
) -> Result<Vec<Document<'a>>, LoadError> {
    let json_file = file.to_ascii_lowercase().ends_with(".json");
    if looks_like_json(text) || json_file {
        match parse_json(text, file) {
            Ok(mut documents) => {
                // JSON is YAML, so the YAML reader supplies the lines.
                if let Ok(with_lines) = parse_yaml(text, file) {
                    if with_lines.len() == documents.len() {
                        for (document, lined) in documents.iter_mut().zip(with_lines) {
                            document.line = lined.line;
                            document.lines = lined.lines;
                        }
                    }
                }
                return Ok(documents);
            }
            Err(error) if json_file => return Err(error),
            Err(_) => {}
        }
    }
    parse_yaml(text, file)
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

fn parse_json<'a>(text: &'a str, file: &str) -> Result<Vec<Document<'a>>, LoadError> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut documents = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let rest = &text[stream.byte_offset()..];
        let start = stream.byte_offset() + (rest.len() - rest.trim_start().len());
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                let line = line_of(start);
                let mut lines = LineMap {
                    lines: HashMap::new(),
                    text,
                };
                lines.lines.insert(String::new(), line);
                documents.push(Document { value, line, lines });
            }
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

/// Returns the JSON error without serde_json's "at line L column C"
/// suffix, which the caller prints itself.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(index) => text[..index].to_string(),
        None => text,
    }
}

fn parse_yaml<'a>(text: &'a str, file: &str) -> Result<Vec<Document<'a>>, LoadError> {
    let mut builder = Builder::new(text, file);
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            Err(error) => return Err(builder.syntax_error(*error.marker(), error.info())),
        };
        if matches!(event, Event::StreamEnd) {
            break;
        }
        builder.on_event(event, mark)?;
    }
    Ok(builder.documents)
}

/// A node being built: a list or a mapping whose end has not been seen.
enum Open {
    List {
        items: Vec<Value>,
        anchor: usize,
        pointer: String,
        nodes: usize,
    },
    Mapping {
        entries: Map<String, Value>,
        merges: Vec<Value>,
        /// The key read, waiting for its value.
        key: Option<String>,
        /// Line of that key; its value is recorded at this line.
        key_line: usize,
        anchor: usize,
        pointer: String,
        nodes: usize,
    },
}

/// Builds JSON values from parser events.
struct Builder<'a> {
    text: &'a str,
    file: String,
    documents: Vec<Document<'a>>,
    stack: Vec<Open>,
    /// Anchored nodes by anchor id, with their node counts.
    anchors: BTreeMap<usize, (Value, usize)>,
    lines: HashMap<String, usize>,
    document_line: Option<usize>,
    budget: usize,
    used: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, file: &str) -> Self {
        Self {
            text,
            file: file.to_string(),
            documents: Vec::new(),
            stack: Vec::new(),
            anchors: BTreeMap::new(),
            lines: HashMap::new(),
            document_line: None,
            budget: text.len().saturating_add(ALIAS_EXPANSION_NODES),
            used: 0,
        }
    }

    fn syntax_error(&self, mark: Marker, message: &str) -> LoadError {
        // An error at the end of the input is reported on the last line.
        let line = mark.line().clamp(1, self.text.lines().count().max(1));
        let start = self.document_line.unwrap_or(1);
        let document_text: String = self
            .text
            .lines()
            .skip(start - 1)
            .take((line + 1).saturating_sub(start))
            .collect::<Vec<_>>()
            .join("\n");
        let template = LineMap {
            lines: HashMap::new(),
            text: self.text,
        }
        .line_text(line)
        .and_then(template_marker)
        .or_else(|| breaking_template_marker(&document_text));
        LoadError::Syntax {
            file: self.file.clone(),
            line,
            column: mark.col() + 1,
            format: "YAML",
            message: message.to_string(),
            template,
        }
    }

    fn take_nodes(&mut self, count: usize, mark: Marker) -> Result<(), LoadError> {
        self.used = self.used.saturating_add(count);
        if self.used > self.budget {
            return Err(LoadError::AliasBomb {
                file: self.file.clone(),
                line: self.document_line.unwrap_or(mark.line()),
                limit: self.budget,
            });
        }
        Ok(())
    }

    /// Pointer of the next node: the parent's pointer plus its key or index.
    /// `None` when the next node is a mapping key.
    fn next_pointer(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Open::List { items, pointer, .. }) => Some(format!("{pointer}/{}", items.len())),
            Some(Open::Mapping {
                key: Some(key),
                pointer,
                ..
            }) => Some(format!("{pointer}/{}", pointer_segment(key))),
            Some(Open::Mapping { key: None, .. }) => None,
        }
    }

    fn on_event(&mut self, event: Event, mark: Marker) -> Result<(), LoadError> {
        match event {
            Event::StreamStart | Event::Nothing | Event::StreamEnd => Ok(()),
            Event::DocumentStart => {
                self.document_line = None;
                self.lines.clear();
                Ok(())
            }
            Event::DocumentEnd => Ok(()),
            Event::Alias(id) => {
                let Some((value, count)) = self.anchors.get(&id) else {
                    return Err(self.syntax_error(mark, "an alias refers to an unknown anchor"));
                };
                let (value, count) = (value.clone(), *count);
                self.take_nodes(count, mark)?;
                self.record_line(mark);
                self.complete(value, count, mark)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.take_nodes(1, mark)?;
                self.record_line(mark);
                let value = resolve_scalar(text, style, tag.as_ref());
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.complete(value, 1, mark)
            }
            Event::SequenceStart(anchor, _) => {
                self.open(mark)?;
                let pointer = self.next_pointer().unwrap_or_default();
                self.stack.push(Open::List {
                    items: Vec::new(),
                    anchor,
                    pointer,
                    nodes: 1,
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.open(mark)?;
                let pointer = self.next_pointer().unwrap_or_default();
                self.stack.push(Open::Mapping {
                    entries: Map::new(),
                    merges: Vec::new(),
                    key: None,
                    key_line: 0,
                    anchor,
                    pointer,
                    nodes: 1,
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Open::List {
                    items,
                    anchor,
                    nodes,
                    ..
                }) => {
                    let value = Value::Array(items);
                    if anchor != 0 {
                        self.anchors.insert(anchor, (value.clone(), nodes));
                    }
                    self.complete(value, nodes, mark)
                }
                _ => Err(self.syntax_error(mark, "a list ends where none is open")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Open::Mapping {
                    mut entries,
                    merges,
                    anchor,
                    nodes,
                    ..
                }) => {
                    apply_merges(&mut entries, merges)
                        .map_err(|message| self.syntax_error(mark, message))?;
                    let value = Value::Object(entries);
                    if anchor != 0 {
                        self.anchors.insert(anchor, (value.clone(), nodes));
                    }
                    self.complete(value, nodes, mark)
                }
                _ => Err(self.syntax_error(mark, "a mapping ends where none is open")),
            },
        }
    }

    fn open(&mut self, mark: Marker) -> Result<(), LoadError> {
        self.take_nodes(1, mark)?;
        if self.stack.len() >= MAX_NESTING {
            return Err(self.syntax_error(
                mark,
                &format!("lists and mappings nest deeper than {MAX_NESTING} levels"),
            ));
        }
        self.record_line(mark);
        Ok(())
    }

    fn record_line(&mut self, mark: Marker) {
        let mut line = mark.line().max(1);
        if self.document_line.is_none() {
            self.document_line = Some(line);
        }
        if self.stack.len() > MAX_RECORDED_DEPTH {
            return;
        }
        if let Some(Open::Mapping {
            key: Some(_),
            key_line,
            ..
        }) = self.stack.last()
        {
            line = *key_line;
        }
        if let Some(pointer) = self.next_pointer() {
            self.lines.entry(pointer).or_insert(line);
        }
    }

    /// Places a finished node into its parent, or finishes the document.
    fn complete(&mut self, value: Value, nodes: usize, mark: Marker) -> Result<(), LoadError> {
        match self.stack.last_mut() {
            None => {
                let line = self.document_line.unwrap_or(mark.line().max(1));
                self.documents.push(Document {
                    value,
                    line,
                    lines: LineMap {
                        lines: std::mem::take(&mut self.lines),
                        text: self.text,
                    },
                });
                Ok(())
            }
            Some(Open::List {
                items,
                nodes: total,
                ..
            }) => {
                items.push(value);
                *total += nodes;
                Ok(())
            }
            Some(Open::Mapping {
                entries,
                merges,
                key,
                key_line,
                nodes: total,
                ..
            }) => {
                *total += nodes;
                match key.take() {
                    None => match mapping_key(value) {
                        Ok(text) => {
                            *key = Some(text);
                            *key_line = mark.line().max(1);
                            Ok(())
                        }
                        Err(message) => Err(self.syntax_error(mark, message)),
                    },
                    Some(name)
                        if name == "<<" && matches!(value, Value::Object(_) | Value::Array(_)) =>
                    {
                        merges.push(value);
                        Ok(())
                    }
                    Some(name) => {
                        entries.insert(name, value);
                        Ok(())
                    }
                }
            }
        }
    }
}

/// Turns a key node into a string, as Kubernetes' YAML-to-JSON conversion
/// does for scalar keys.
fn mapping_key(value: Value) -> Result<String, &'static str> {
    match value {
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok("null".to_string()),
        Value::Array(_) | Value::Object(_) => {
            Err("a mapping key is itself a list or mapping, which JSON cannot represent")
        }
    }
}

/// Adds the keys of merged mappings that the mapping does not set itself;
/// among merged mappings, the first one wins.
fn apply_merges(entries: &mut Map<String, Value>, merges: Vec<Value>) -> Result<(), &'static str> {
    for merge in merges {
        let sources = match merge {
            Value::Array(items) => items,
            other => vec![other],
        };
        for source in sources {
            let Value::Object(source) = source else {
                return Err("a `<<` merge key must name a mapping or a list of mappings");
            };
            for (key, value) in source {
                entries.entry(key).or_insert(value);
            }
        }
    }
    Ok(())
}

/// Resolves a scalar by the YAML 1.2 core schema: only plain scalars can be
/// null, booleans or numbers, and a `!!str` tag keeps a string.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    if let Some(tag) = tag {
        if tag.handle == "tag:yaml.org,2002:" && tag.suffix == "str" {
            return Value::String(text);
        }
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = resolve_integer(&text) {
        return Value::Number(number);
    }
    if let Some(number) = resolve_float(&text) {
        // JSON has no NaN or infinity; YAML's spelling stays a string.
        if let Some(number) = Number::from_f64(number) {
            return Value::Number(number);
        }
    }
    Value::String(text)
}

fn resolve_integer(text: &str) -> Option<Number> {
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return u64::from_str_radix(octal, 8).ok().map(Number::from);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    unsigned
        .parse::<i64>()
        .ok()
        .map(Number::from)
        .or_else(|| unsigned.parse::<u64>().ok().map(Number::from))
}

/// YAML 1.2 core float: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
/// plus `.inf` and `.nan` spellings.
fn resolve_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(index) => (&unsigned[..index], Some(&unsigned[index + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(fraction) => {
            digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !exponent.is_empty() && digits(exponent)
    });
    if !mantissa_ok || !exponent_ok {
        return None;
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Document<'_>> {
        parse_yaml(text, "t.yaml").unwrap()
    }

    #[test]
    fn scalars_follow_core_schema() {
        let documents = parse(
            "a: 1\nb: 0x1f\nc: 1.5\nd: yes\ne: ~\nf: \"2\"\ng: True\nh: 1e3\ni: .inf\nj: 1.2.3\n",
        );
        let value = &documents[0].value;
        assert_eq!(value["a"], 1);
        assert_eq!(value["b"], 31);
        assert_eq!(value["c"], 1.5);
        assert_eq!(value["d"], "yes");
        assert_eq!(value["e"], Value::Null);
        assert_eq!(value["f"], "2");
        assert_eq!(value["g"], true);
        assert_eq!(value["h"], 1000.0);
        assert_eq!(value["i"], ".inf");
        assert_eq!(value["j"], "1.2.3");
    }

    #[test]
    fn merge_key_applies() {
        let documents = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n");
        assert_eq!(documents[0].value["use"]["x"], 1);
        assert_eq!(documents[0].value["use"]["y"], 3);
    }

    #[test]
    fn redefined_anchor_resolves_to_latest() {
        let documents = parse("a: &x 1\nb: *x\nc: &x 2\nd: &y 3\ne: *x\nf: *y\n");
        let value = &documents[0].value;
        assert_eq!(value["b"], 1);
        assert_eq!(value["e"], 2);
        assert_eq!(value["f"], 3);
    }

    #[test]
    fn lines_recorded_by_pointer() {
        let documents =
            parse("# c\n---\nkind: X\nspec:\n  acme:\n    solvers:\n      - dns01: {}\n");
        let lines = &documents[0].lines;
        assert_eq!(documents[0].line, 3);
        assert_eq!(lines.locate("/spec/acme/solvers"), Some(6));
        assert_eq!(lines.locate("/spec/acme/solvers/0"), Some(7));
        assert_eq!(lines.locate("/spec/acme/solvers/0/dns01"), Some(7));
        assert_eq!(
            lines.locate("/spec/acme/solvers/0/dns01/cloudflare"),
            Some(7)
        );
    }

    #[test]
    fn documents_split_with_lines() {
        let documents = parse("a: 1\n---\nb: 2\n...\n---\n# empty\n---\nc: 3\n");
        let values: Vec<&Value> = documents.iter().map(|d| &d.value).collect();
        assert_eq!(
            values,
            [
                &serde_json::json!({"a": 1}),
                &serde_json::json!({"b": 2}),
                &Value::Null,
                &serde_json::json!({"c": 3})
            ]
        );
        assert_eq!(documents[1].line, 3);
        assert_eq!(documents[3].line, 8);
    }

    #[test]
    fn pointer_escapes_slash() {
        assert_eq!(pointer_segment("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn float_grammar() {
        assert_eq!(resolve_float("1."), Some(1.0));
        assert_eq!(resolve_float(".5"), Some(0.5));
        assert_eq!(resolve_float("."), None);
        assert_eq!(resolve_float("1e"), None);
        assert_eq!(resolve_float("inf"), None);
    }
}
