//! `cargo xtask codegen [--check]`: the GenAI wire types from the spec.
//!
//! Reads `spec/genai-inference-20231130.json` (type names, JSON field names,
//! types, required flags, allowed values, discriminators) and writes
//! `crates/oci-genai-transport/src/models.rs`:
//!
//! - a type with a discriminator becomes an enum with one variant per
//!   subtype plus `Unknown(serde_json::Value)`, dispatched on the tag;
//! - a subtype becomes a struct without the tag field that writes its tag
//!   when serialised (so it is right on its own too);
//! - a string field with allowed values becomes an enum with `Unknown(String)`;
//! - in types only sent, required fields are plain and optional ones `Option`;
//!   in types only received, every field is an `Option`; in types both sent and
//!   received, required fields are plain with `#[serde(default)]`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

pub const SPEC: &str = "spec/genai-inference-20231130.json";
pub const OUTPUT: &str = "crates/oci-genai-transport/src/models.rs";

struct Field {
    json: String,
    name: String,
    required: bool,
    ty: String,
    allowed: Option<Vec<String>>,
}

struct Model {
    fields: Vec<Field>,
    discriminator: Option<(String, BTreeMap<String, String>)>,
    discriminator_value: Option<String>,
    extends: Option<String>,
}

pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let spec_text = std::fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
    let code = format(&generate(&spec_text)?)?;
    let output = root.join(OUTPUT);
    if check {
        let current = std::fs::read_to_string(&output).unwrap_or_default();
        if current != code {
            return Err(format!("{OUTPUT} is stale: run `cargo xtask codegen`"));
        }
        eprintln!("{OUTPUT} is up to date");
        return Ok(());
    }
    std::fs::write(&output, code).map_err(|e| format!("cannot write {OUTPUT}: {e}"))?;
    eprintln!("wrote {OUTPUT}");
    Ok(())
}

fn format(code: &str) -> Result<String, String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--config", "max_width=120,use_small_heuristics=Max"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, code.as_bytes()).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err("rustfmt failed on the generated code".into());
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn parse(spec_text: &str) -> Result<BTreeMap<String, Model>, String> {
    let spec: Value = serde_json::from_str(spec_text).map_err(|e| format!("{SPEC}: {e}"))?;
    let models = spec["models"].as_object().ok_or("spec has no `models`")?;
    let text = |v: &Value| v.as_str().map(str::to_owned).ok_or_else(|| format!("expected a string, got {v}"));
    let mut out = BTreeMap::new();
    for (name, model) in models {
        let mut fields = Vec::new();
        for f in model["fields"].as_array().ok_or_else(|| format!("{name}: no fields"))? {
            fields.push(Field {
                json: text(&f["json"])?,
                name: text(&f["name"])?,
                required: f["required"].as_bool().unwrap_or(false),
                ty: text(&f["type"])?,
                allowed: f["allowed"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()),
            });
        }
        let discriminator = match model.get("discriminator") {
            Some(d) => {
                let variants = d["variants"]
                    .as_object()
                    .ok_or_else(|| format!("{name}: discriminator without variants"))?
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), text(v)?)))
                    .collect::<Result<_, String>>()?;
                Some((text(&d["json"])?, variants))
            }
            None => None,
        };
        out.insert(
            name.clone(),
            Model {
                fields,
                discriminator,
                discriminator_value: model.get("discriminator_value").map(text).transpose()?,
                extends: model.get("extends").map(text).transpose()?,
            },
        );
    }
    Ok(out)
}

/// The element type of `list[T]` or the value type of `dict(str, T)`.
fn inner(ty: &str) -> Option<&str> {
    ty.strip_prefix("list[")
        .and_then(|t| t.strip_suffix(']'))
        .or_else(|| ty.strip_prefix("dict(str, ").and_then(|t| t.strip_suffix(')')))
}

/// The named type a spec type mentions (`list[Message]` → `Message`).
fn referenced(ty: &str) -> Option<&str> {
    match inner(ty) {
        Some(inner) => referenced(inner),
        None => (!matches!(ty, "str" | "int" | "float" | "bool" | "object" | "datetime")).then_some(ty),
    }
}

/// Every type reachable from `roots` (a union reaches its variants).
fn reachable(models: &BTreeMap<String, Model>, roots: impl Iterator<Item = String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.collect();
    while let Some(name) = stack.pop() {
        let Some(model) = models.get(&name) else { continue };
        if !seen.insert(name) {
            continue;
        }
        stack.extend(model.fields.iter().filter_map(|f| referenced(&f.ty)).map(str::to_owned));
        if let Some((_, variants)) = &model.discriminator {
            stack.extend(variants.values().cloned());
        }
    }
    seen
}

fn pascal(tag: &str) -> String {
    let mut out = String::new();
    for word in tag.split(['_', '-', ' ']).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        let mut chars = lower.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    // COHEREV2 reads better as CohereV2.
    if let Some(i) = out.rfind('v') {
        if i > 0 && out[i + 1..].chars().all(|c| c.is_ascii_digit()) && i + 1 < out.len() {
            out.replace_range(i..=i, "V");
        }
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `reasoningEffort` → `ReasoningEffort`.
fn upper_first(json: &str) -> String {
    let mut chars = json.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

fn field_ident(name: &str) -> String {
    match name {
        "type" | "match" | "ref" | "self" | "move" | "fn" | "mod" | "use" | "impl" | "loop" | "where" => {
            format!("r#{name}")
        }
        other => other.to_owned(),
    }
}

struct Gen<'a> {
    models: &'a BTreeMap<String, Model>,
    sent: BTreeSet<String>,
    received: BTreeSet<String>,
    /// (owner type, json field) → string enum name.
    enum_names: BTreeMap<(String, String), String>,
    /// enum name → allowed values.
    enums: BTreeMap<String, Vec<String>>,
}

impl Gen<'_> {
    /// The tag field a type does not carry as a field (its own or its parent's discriminator).
    fn tag_field(&self, name: &str) -> Option<&str> {
        let model = &self.models[name];
        model.discriminator.as_ref().map(|(json, _)| json.as_str()).or_else(|| {
            model.extends.as_ref().and_then(|p| self.models.get(p)?.discriminator.as_ref()).map(|(j, _)| j.as_str())
        })
    }

    fn rust_type(&self, owner: &str, field: &Field) -> String {
        self.map_type(owner, field, &field.ty)
    }

    fn map_type(&self, owner: &str, field: &Field, ty: &str) -> String {
        if let Some(element) = ty.strip_prefix("list[").and_then(|t| t.strip_suffix(']')) {
            return format!("Vec<{}>", self.map_type(owner, field, element));
        }
        if let Some(value) = ty.strip_prefix("dict(str, ").and_then(|t| t.strip_suffix(')')) {
            return format!("BTreeMap<String, {}>", self.map_type(owner, field, value));
        }
        match ty {
            "str" => match self.enum_names.get(&(owner.to_owned(), field.json.clone())) {
                Some(name) => name.clone(),
                None => "String".into(),
            },
            "int" => "i64".into(),
            "float" => "f64".into(),
            "bool" => "bool".into(),
            "object" => "serde_json::Value".into(),
            "datetime" => "String".into(),
            named => named.to_owned(),
        }
    }

    fn emit(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "//! The OCI Generative AI inference wire types (API 20231130).\n//!\n\
             //! Generated by `cargo xtask codegen` from `spec/genai-inference-20231130.json`; do not edit.\n\
             //! Each item's documentation names the wire type or JSON field it maps.\n\n\
             #![allow(clippy::large_enum_variant, clippy::too_many_lines)]\n\n\
             use std::collections::BTreeMap;\n\nuse serde::{Deserialize, Deserializer, Serialize, Serializer};\n\n",
        );
        for (name, values) in &self.enums {
            self.emit_string_enum(&mut out, name, values);
        }
        for (name, model) in self.models {
            if model.discriminator.is_some() {
                self.emit_union(&mut out, name, model);
            } else {
                self.emit_struct(&mut out, name, model);
            }
        }
        self.emit_roundtrip(&mut out);
        out
    }

    fn emit_string_enum(&self, out: &mut String, name: &str, values: &[String]) {
        let _ = writeln!(out, "/// Values of a string field; `Unknown` keeps values this version does not know.");
        let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq, Eq, Hash)]\npub enum {name} {{");
        for v in values {
            let _ = writeln!(out, "    /// `\"{v}\"`\n    {},", pascal(v));
        }
        let _ = writeln!(out, "    /// A value this version does not know.\n    Unknown(String),\n}}\n");
        let _ = writeln!(
            out,
            "impl {name} {{\n    /// The wire value.\n    pub fn as_str(&self) -> &str {{\n        match self {{"
        );
        for v in values {
            let _ = writeln!(out, "            {name}::{} => \"{v}\",", pascal(v));
        }
        let _ = writeln!(out, "            {name}::Unknown(v) => v,\n        }}\n    }}\n}}\n");
        let _ =
            writeln!(out, "impl From<&str> for {name} {{\n    fn from(value: &str) -> Self {{\n        match value {{");
        for v in values {
            let _ = writeln!(out, "            \"{v}\" => {name}::{},", pascal(v));
        }
        let _ = writeln!(out, "            other => {name}::Unknown(other.to_owned()),\n        }}\n    }}\n}}\n");
        let _ = writeln!(
            out,
            "impl Default for {name} {{\n    fn default() -> Self {{\n        {name}::Unknown(String::new())\n    }}\n}}\n\n\
             impl Serialize for {name} {{\n    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        \
             serializer.serialize_str(self.as_str())\n    }}\n}}\n\n\
             impl<'de> Deserialize<'de> for {name} {{\n    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        \
             let value = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;\n        Ok({name}::from(value.as_ref()))\n    }}\n}}\n"
        );
    }

    fn emit_union(&self, out: &mut String, name: &str, model: &Model) {
        let Some((tag, variants)) = &model.discriminator else { return };
        let _ = writeln!(out, "/// Wire type `{name}`: one of its subtypes, chosen by the `{tag}` field.");
        let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq)]\npub enum {name} {{");
        for (value, ty) in variants {
            let _ = writeln!(out, "    /// `\"{tag}\": \"{value}\"`\n    {}({ty}),", pascal(value));
        }
        let _ = writeln!(
            out,
            "    /// A `{tag}` this version does not know, kept as JSON.\n    Unknown(serde_json::Value),\n}}\n"
        );
        let _ = writeln!(
            out,
            "impl Default for {name} {{\n    fn default() -> Self {{\n        {name}::Unknown(serde_json::Value::Null)\n    }}\n}}\n"
        );
        let _ = writeln!(
            out,
            "impl Serialize for {name} {{\n    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        match self {{"
        );
        for value in variants.keys() {
            let _ = writeln!(out, "            {name}::{}(v) => v.serialize(serializer),", pascal(value));
        }
        let _ = writeln!(out, "            {name}::Unknown(v) => v.serialize(serializer),\n        }}\n    }}\n}}\n");
        let _ = writeln!(
            out,
            "impl<'de> Deserialize<'de> for {name} {{\n    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        \
             let value = serde_json::Value::deserialize(deserializer)?;\n        \
             let tag = value.get(\"{tag}\").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();\n        \
             match tag.as_str() {{"
        );
        for value in variants.keys() {
            let _ = writeln!(
                out,
                "            \"{value}\" => serde_json::from_value(value).map({name}::{}).map_err(serde::de::Error::custom),",
                pascal(value)
            );
        }
        let _ = writeln!(out, "            _ => Ok({name}::Unknown(value)),\n        }}\n    }}\n}}\n");
    }

    fn emit_struct(&self, out: &mut String, name: &str, model: &Model) {
        let tag_field = self.tag_field(name).map(str::to_owned);
        let fields: Vec<&Field> = model.fields.iter().filter(|f| Some(&f.json) != tag_field.as_ref()).collect();
        let (sent, received) = (self.sent.contains(name), self.received.contains(name) || !self.sent.contains(name));
        let direction = match (sent, received) {
            (true, true) => "sent and received",
            (true, false) => "sent",
            _ => "received",
        };
        let tagged = model.discriminator_value.as_ref().zip(tag_field.as_ref());
        match tagged {
            Some((value, tag)) => {
                let _ = writeln!(out, "/// Wire type `{name}` (`\"{tag}\": \"{value}\"`), {direction}.");
                let _ = writeln!(out, "#[derive(Debug, Clone, Default, PartialEq, Deserialize)]");
            }
            None => {
                let _ = writeln!(out, "/// Wire type `{name}`, {direction}.");
                let _ = writeln!(out, "#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]");
            }
        }
        let _ = writeln!(out, "pub struct {name} {{");
        let mut plain = Vec::new();
        for f in &fields {
            let ty = self.rust_type(name, f);
            let is_plain = f.required && sent;
            plain.push(is_plain);
            let req = if f.required { "required" } else { "optional" };
            let _ = writeln!(out, "    /// JSON `{}` ({req}).", f.json);
            let _ = write!(out, "    #[serde(rename = \"{}\"", f.json);
            if is_plain && received {
                out.push_str(", default");
            }
            if !is_plain {
                out.push_str(", default, skip_serializing_if = \"Option::is_none\"");
            }
            out.push_str(")]\n");
            let ty = if is_plain { ty } else { format!("Option<{ty}>") };
            let _ = writeln!(out, "    pub {}: {ty},", field_ident(&f.name));
        }
        out.push_str("}\n\n");
        if let Some((value, tag)) = tagged {
            let _ = writeln!(
                out,
                "impl Serialize for {name} {{\n    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        \
                 use serde::ser::SerializeStruct as _;\n        let mut s = serializer.serialize_struct(\"{name}\", {})?;\n        \
                 s.serialize_field(\"{tag}\", \"{value}\")?;",
                fields.len() + 1
            );
            for (f, is_plain) in fields.iter().zip(&plain) {
                let ident = field_ident(&f.name);
                if *is_plain {
                    let _ = writeln!(out, "        s.serialize_field(\"{}\", &self.{ident})?;", f.json);
                } else {
                    let _ = writeln!(
                        out,
                        "        match &self.{ident} {{\n            Some(v) => s.serialize_field(\"{0}\", v)?,\n            None => s.skip_field(\"{0}\")?,\n        }}",
                        f.json
                    );
                }
            }
            out.push_str("        s.end()\n    }\n}\n\n");
        }
    }

    fn emit_roundtrip(&self, out: &mut String) {
        out.push_str(
            "/// Deserialises `value` as the wire type `name` and serialises it again (for tests).\n\
             #[doc(hidden)]\npub fn roundtrip(name: &str, value: serde_json::Value) -> serde_json::Result<serde_json::Value> {\n    match name {\n",
        );
        for name in self.models.keys() {
            let _ =
                writeln!(out, "        \"{name}\" => serde_json::to_value(serde_json::from_value::<{name}>(value)?),");
        }
        out.push_str("        _ => Err(serde::de::Error::custom(format!(\"unknown wire type {name}\"))),\n    }\n}\n");
    }
}

pub fn generate(spec_text: &str) -> Result<String, String> {
    let models = parse(spec_text)?;
    let roots = |suffix: &str| models.keys().filter(|n| n.ends_with(suffix)).cloned().collect::<Vec<_>>();
    let sent = reachable(&models, roots("Details").into_iter());
    let received = reachable(&models, roots("Result").into_iter().chain(roots("Response")));

    // String enums: one per field name when every owner agrees on the values, else one per owner.
    let mut generator = Gen { models: &models, sent, received, enum_names: BTreeMap::new(), enums: BTreeMap::new() };
    let mut by_field: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for (name, model) in &models {
        let tag = generator.tag_field(name).map(str::to_owned);
        for f in &model.fields {
            let is_string = f.ty == "str" || f.ty == "list[str]";
            if let (Some(allowed), true) = (&f.allowed, is_string) {
                if Some(&f.json) != tag.as_ref() {
                    by_field.entry(f.json.clone()).or_default().push((name.clone(), allowed.clone()));
                }
            }
        }
    }
    for (json, owners) in by_field {
        let field_name = upper_first(&json);
        let shared =
            owners.len() > 1 && owners.iter().all(|(_, v)| *v == owners[0].1) && !models.contains_key(&field_name);
        for (owner, values) in owners {
            let enum_name = if shared { field_name.clone() } else { format!("{owner}{field_name}") };
            generator.enums.insert(enum_name.clone(), values);
            generator.enum_names.insert((owner, json.clone()), enum_name);
        }
    }
    Ok(generator.emit())
}

#[cfg(test)]
mod tests;
