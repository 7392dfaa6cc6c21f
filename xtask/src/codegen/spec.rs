//! Reading the spec: the models, their fields, and which are reachable.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::SPEC;

pub(super) struct Field {
    pub(super) json: String,
    pub(super) name: String,
    pub(super) required: bool,
    pub(super) ty: String,
    pub(super) allowed: Option<Vec<String>>,
}

pub(super) struct Model {
    pub(super) fields: Vec<Field>,
    pub(super) discriminator: Option<(String, BTreeMap<String, String>)>,
    pub(super) discriminator_value: Option<String>,
    pub(super) extends: Option<String>,
}

pub(super) fn parse(spec_text: &str) -> Result<BTreeMap<String, Model>, String> {
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
pub(super) fn inner(ty: &str) -> Option<&str> {
    ty.strip_prefix("list[")
        .and_then(|t| t.strip_suffix(']'))
        .or_else(|| ty.strip_prefix("dict(str, ").and_then(|t| t.strip_suffix(')')))
}

/// The named type a spec type mentions (`list[Message]` → `Message`).
pub(super) fn referenced(ty: &str) -> Option<&str> {
    match inner(ty) {
        Some(inner) => referenced(inner),
        None => (!matches!(ty, "str" | "int" | "float" | "bool" | "object" | "datetime")).then_some(ty),
    }
}

/// Every type reachable from `roots` (a union reaches its variants).
pub(super) fn reachable(models: &BTreeMap<String, Model>, roots: impl Iterator<Item = String>) -> BTreeSet<String> {
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
